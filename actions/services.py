"""What the actions need from the outside world, built once per process.

Tests replace the whole set with :func:`set_services` (a temporary workspace, a
fixed "today"), so no action reaches for a global of its own.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from actions.cache import AnswerCache
from analytics.embeddings import get_encoder
from analytics.engagement import EngagementModel, posts_fingerprint, with_workspace_posts
from analytics.exceptions import ModelLoadError
from analytics.sentiment import SentimentScorer
from beacon.digest import SlackPoster
from beacon.scoring import ReloadingScorer
from beacon.support import SupportDesk
from foundation.exceptions import BeaconError, ConfigError
from foundation.settings import Settings, get_settings
from foundation.workspace import (
    TURN_LOCK_WAIT_SECONDS,
    Pseudonymizer,
    SharedRecord,
    SharedRecordUnavailable,
    Workspace,
    shared_record,
    workspace_pseudonymizer,
)
from knowledge import (
    IndexIntegrityError,
    IndexNotFoundError,
    KnowledgeBase,
    KnowledgeError,
    PostIndex,
    default_post_index_dir,
)

logger = logging.getLogger(__name__)

#: What anyone asking the documents hears while the index is missing or damaged.
DOCUMENTS_UNAVAILABLE = (
    "I can't search our documents just now (the document index isn't ready). "
    "Please try again later."
)


def _utc_today() -> date:
    return datetime.now(UTC).date()


CHART_NAME = re.compile(r"^[0-9a-f]{32}\.png$")


class DocumentsUnavailable(BeaconError):
    """The document index is missing or damaged; the message is safe to show anyone."""


@dataclass(frozen=True)
class ChartStore:
    """Where actions put chart images, and the URL chat clients fetch them from.

    Names are random 128-bit hex, so a chart's URL is its only key. With a shared record
    (several replicas), the charts a turn sends are stored there too (:meth:`share_sent`),
    and a replica asked for a chart it did not draw fetches it from there.

    Attributes:
        folder: Directory the PNG files are written to.
        base_url: Public base URL of the action server.
        shared: The shared operational record, or None on a single host.
    """

    folder: Path
    base_url: str
    shared: SharedRecord | None = None

    def new_chart(self) -> tuple[Path, str]:
        """A fresh ``(path to write, URL to send)`` pair."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{uuid.uuid4().hex}.png"
        return self.folder / name, f"{self.base_url}/charts/{name}"

    def path_of(self, name: str) -> Path | None:
        """The file behind a chart name, or None for a bad or unknown name."""
        if not CHART_NAME.match(name):
            return None
        path = self.folder / name
        if path.is_file():
            return path
        if self.shared is None:
            return None
        try:
            png = self.shared.chart(name)
        except SharedRecordUnavailable as error:
            self.shared.warn(error)
            return None
        if png is None:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)  # kept here too: the next request is local
        return path

    def share_sent(self, messages: list[dict[str, Any]]) -> None:
        """Store in the shared record the charts these messages send (no-op without one)."""
        if self.shared is None:
            return
        prefix = f"{self.base_url}/charts/"
        for message in messages:
            image = message.get("image")
            if not isinstance(image, str) or not image.startswith(prefix):
                continue
            path = self.folder / image[len(prefix) :]
            if not CHART_NAME.match(path.name) or not path.is_file():
                continue
            try:
                self.shared.put_chart(path.name, path.read_bytes())
            except SharedRecordUnavailable as error:
                self.shared.warn(error)  # this replica still serves it
                return


#: Said when the saved engagement model is damaged or from another version.
ENGAGEMENT_UNAVAILABLE = (
    "The engagement model can't be loaded right now (its files are damaged or from "
    "another version), so I can't predict or explain posts; the team can retrain it with "
    "`beacon engagement train`. Everything else still works."
)


@dataclass
class Services:
    """The adapters and models the actions use.

    Attributes:
        settings: Beacon's settings.
        workspace: The DuckDB workspace.
        scorer: The sentiment model.
        charts: Chart images served by the action server.
        knowledge_dir: The knowledge index folder (None: the default under home).
        engagement_dir: The saved engagement ensemble (None: none available).
        engagement_cache_dir: Its embedding cache.
        post_index_dir: The similar-posts index (None: ``post-index`` next to the workspace).
        today: Returns "today" (UTC); injectable so tests can pin the date.
        answers: Recent answers by question and data version (no recomputing).
        support: Open hand-offs, the hand-off cap and ratings kept by this process.
    """

    settings: Settings
    workspace: Workspace
    scorer: SentimentScorer
    charts: ChartStore
    knowledge_dir: Path | None = None
    engagement_dir: Path | None = None
    engagement_cache_dir: Path | None = None
    post_index_dir: Path | None = None
    today: Callable[[], date] = field(default=_utc_today)
    answers: AnswerCache = field(default_factory=AnswerCache)
    support: SupportDesk = field(default_factory=SupportDesk.from_env)
    _slack: SlackPoster | None = field(default=None, init=False, repr=False)
    _slack_built: bool = field(default=False, init=False, repr=False)
    _knowledge: KnowledgeBase | None = field(default=None, init=False, repr=False)
    _pseudonymizer: Pseudonymizer | None = field(default=None, init=False, repr=False)
    _engagement: EngagementModel | None = field(default=None, init=False, repr=False)
    _engagement_stamp: tuple[int, int] | None = field(default=None, init=False, repr=False)
    _engagement_live: tuple[tuple[object, ...], EngagementModel] | None = field(
        default=None, init=False, repr=False
    )
    _post_index: tuple[tuple[int, int], PostIndex | None] | None = field(
        default=None, init=False, repr=False
    )

    def engagement(self) -> EngagementModel:
        """The engagement ensemble trained by `beacon demo` / `beacon engagement train`.

        Reloaded when its ``model.json`` changes (``beacon retrain`` recalibrates it in
        place), so the running server answers with the adopted model without a restart.
        Drafts are judged against the account's latest posts in the workspace, not only
        those it was trained on (:meth:`EngagementModel.with_posts`); the posts are
        re-read when their count or latest times change.
        """
        folder = self.engagement_dir
        if folder is None or not folder.is_dir():
            raise ConfigError(
                "there is no trained engagement model yet; run `beacon engagement train` "
                "(or `beacon demo`) first"
            )
        info = (folder / "model.json").stat()
        stamp = (info.st_mtime_ns, info.st_size)
        if self._engagement is None or stamp != self._engagement_stamp:
            try:
                loaded = EngagementModel.load(folder, cache_dir=self.engagement_cache_dir)
            except (ModelLoadError, KeyError, ValueError, OSError) as error:
                logger.error("the engagement model cannot be loaded: %s", error)
                raise ConfigError(ENGAGEMENT_UNAVAILABLE) from error
            self._engagement = loaded
            self._engagement_stamp = stamp
            self._engagement_live = None
        with self.workspace.connect(read_only=True) as con:
            fingerprint = posts_fingerprint(con)
            if self._engagement_live is None or self._engagement_live[0] != fingerprint:
                self._engagement_live = (fingerprint, with_workspace_posts(self._engagement, con))
        return self._engagement_live[1]

    def knowledge(self) -> KnowledgeBase:
        """The document index, opened (and checksum-verified) on first use.

        Raises:
            DocumentsUnavailable: There is no index yet, or it fails its checks; the
                details (with the folder and the command that fixes it) go to the log,
                never to the user.
        """
        if self._knowledge is None:
            folder = self.knowledge_dir or self.settings.home / "knowledge"
            try:
                self._knowledge = KnowledgeBase.open(folder)
            except (IndexNotFoundError, IndexIntegrityError) as error:
                logger.error("document index unusable: %s", error)
                raise DocumentsUnavailable(DOCUMENTS_UNAVAILABLE) from error
        return self._knowledge

    def pseudonymizer(self) -> Pseudonymizer:
        """The workspace's pseudonymiser (its key from the settings, checked once).

        Raises:
            ConfigError: The workspace was built with another key (no message is kept
                under a second pseudonym).
        """
        if self._pseudonymizer is None:
            self._pseudonymizer = workspace_pseudonymizer(
                self.workspace,
                self.settings.pseudonym_key(),
                region=self.settings.phone_region,
                record=False,
            )
        return self._pseudonymizer

    def slack(self) -> SlackPoster | None:
        """The Slack adapter (hand-offs to staff), or None when Slack is not configured.

        Built once, so the staff channel's id is looked up in Slack once per process,
        not on every hand-off.
        """
        if not self._slack_built:
            try:
                self._slack = SlackPoster.from_env(timeout_s=self.settings.http_timeout_s)
            except ConfigError:
                self._slack = None
            self._slack_built = True
        return self._slack

    def post_index(self) -> PostIndex | None:
        """The similar-posts index, or None while there is none (answers then leave it out).

        Reloaded when ``beacon knowledge index-posts`` rewrites it; a damaged index is
        logged and left unused rather than failing the answer it would decorate.
        """
        folder = self.post_index_dir or default_post_index_dir(self.workspace.path)
        try:
            stat = (folder / "manifest.json").stat()
        except OSError:
            return None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._post_index is None or self._post_index[0] != stamp:
            loaded: PostIndex | None = None
            try:
                loaded = PostIndex.open(folder)
            except KnowledgeError as error:
                logger.warning("post index unusable, answering without similar posts: %s", error)
            self._post_index = (stamp, loaded)
        return self._post_index[1]

    def warm_up(self) -> None:
        """Load models now, so the first question is not the slow one."""
        self.scorer.predict(["warm-up"])
        get_encoder()
        if self.knowledge_dir is not None and self.knowledge_dir.exists():
            # Logged; each document question then says it can't search just now.
            with contextlib.suppress(DocumentsUnavailable):
                self.knowledge()
        if self.engagement_dir is not None and self.engagement_dir.exists():
            # A model saved by an older Beacon must not stop the server: each engagement
            # question then says what to run.
            try:
                self.engagement().warm_up()
            except BeaconError as error:
                logger.warning("engagement model not loaded at start-up: %s", error)
        self.post_index()
        if self.workspace.shared is not None:
            try:
                self.workspace.shared.check()
            except SharedRecordUnavailable as error:
                # Not fatal: what this replica records waits in its outbox.
                self.workspace.shared.warn(error)


_override: Services | None = None


@functools.cache
def _default_services() -> Services:
    settings = get_settings()
    return Services(
        settings=settings,
        workspace=Workspace(settings.workspace_path, lock_wait=TURN_LOCK_WAIT_SECONDS),
        scorer=ReloadingScorer(),  # a retrained model answers without a restart
        charts=ChartStore(
            settings.home / "charts",
            settings.public_action_url,
            shared=shared_record(settings.database_url),
        ),
        knowledge_dir=settings.home / "knowledge",
        engagement_dir=settings.engagement_model_dir,
        engagement_cache_dir=settings.engagement_cache_dir,
    )


def get_services() -> Services:
    """The process's services (the test override when one is set)."""
    return _override if _override is not None else _default_services()


def set_services(services: Services | None) -> None:
    """Replace the services (tests); ``None`` restores the defaults."""
    global _override
    _override = services
