"""One digest run: build, write the HTML file, and publish to Slack when asked."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from beacon.digest._build import build_digest
from beacon.digest._html import render_html
from beacon.digest._publish import PublishResult, publish_digest
from beacon.digest._slack import SlackPoster
from beacon.digest._types import SECTION_TITLES, Digest, Linker
from beacon.digest._week import IsoWeek
from foundation.exceptions import InputError
from foundation.workspace import Workspace

if TYPE_CHECKING:
    from analytics.engagement import EngagementModel


@dataclass(frozen=True)
class DigestRun:
    """What a run did.

    Attributes:
        digest: The digest built.
        html_path: Where its HTML was written.
        published: The Slack outcome, or None when no channel was given.
    """

    digest: Digest
    html_path: Path
    published: PublishResult | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "week": self.digest.week.label,
            "html": str(self.html_path),
            "audit_ids": dict(self.digest.audit_ids),
            "slack": self.published.to_dict() if self.published else None,
            "headlines": {key: self.digest.section(key).headline() for key in SECTION_TITLES},
            "actions": [a.to_dict() for a in self.digest.actions.items],
        }


def default_output(home: Path, week: IsoWeek) -> Path:
    """``<home>/digests/digest-2026-W48.html``."""
    return Path(home) / "digests" / f"digest-{week.label}.html"


def write_html(digest: Digest, path: Path) -> Path:
    """Write the digest's HTML to ``path`` (atomically: a reader never sees half a file).

    Raises:
        InputError: ``path`` is a directory or its folder cannot be created.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(f"--out must be a file such as digest.html (got the folder {path})")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(prefix=".digest-", suffix=".html", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(render_html(digest))
        os.chmod(temp, 0o644)  # mkstemp makes 0600; the digest is meant to be shared
        os.replace(temp, path)
    except OSError as error:
        raise InputError(f"cannot write the digest to {path}: {error.strerror or error}") from None
    return path


def run_digest(
    workspace: Workspace,
    week: IsoWeek,
    out: Path,
    *,
    model_version: str,
    engagement_model: EngagementModel | None = None,
    poster: SlackPoster | None = None,
    channel: str | None = None,
    force: bool = False,
    on_step: Callable[[str], None] | None = None,
    link: Linker | None = None,
) -> DigestRun:
    """Build the week's digest, (re)write ``out``, and post it to ``channel`` once.

    Args:
        workspace: The workspace.
        week: The week to report on.
        out: The HTML file, always (re)written.
        model_version: The sentiment scorer whose labels are counted.
        engagement_model: Explains the best and worst posts when given.
        poster: The Slack adapter (needed with ``channel``).
        channel: Slack channel name or id; None posts nothing.
        force: Post even when this week is already in the channel.
        on_step: Progress callback with each step's name.
        link: Makes each section's dashboard link (see :func:`build_digest`).

    Raises:
        InputError: ``channel`` without ``poster``, or an unwritable ``out``.
    """
    if channel and poster is None:
        raise InputError(f"posting to {channel!r} needs a SlackPoster (got none)")
    digest = build_digest(
        workspace,
        week,
        model_version=model_version,
        engagement_model=engagement_model,
        on_step=on_step,
        link=link,
    )
    path = write_html(digest, out)
    published = None
    if channel and poster is not None:
        if on_step:
            on_step("slack")
        published = publish_digest(workspace, digest, poster, channel, force=force)
    return DigestRun(digest, path, published)
