"""Similar posts: a FAISS index over the brand's own workspace posts ("posts like this one").

Which posts: the brand's own posts, i.e. exactly the rows the engagement ensemble learns
from (:func:`analytics.engagement.workspace_posts`: the accounts in the workspace's
``own_accounts`` meta entry, or every post when that entry is absent). Customers' posts
about the brand are not indexed: their outcomes say nothing about how *our* next post will
do, and they are personal data that ``beacon forget`` may remove at any time.

Each indexed post carries its outcome when indexed: likes + comments + shares, the
engagement rate (that sum over the account's followers at posting time) and whether it
landed in the top 30% of its account's trailing history — the engagement model's own
target (:func:`analytics.engagement.add_context`), computed per ``account@platform``
exactly as :func:`analytics.engagement.train_on_workspace` does.

Layout of an index folder (persisted by :mod:`knowledge._store`, like the document index)::

    manifest.json             format, model, counts, workspace, name + SHA-256 of each file
    vectors-<sha16>.faiss     faiss.write_index format (no pickle)
    embeddings-<sha16>.npy    float32 (n, 384), read with allow_pickle=False
    posts-<sha16>.json        one record per post, row i = vector i

Data files are named after their content hash and written before the manifest, which is
replaced atomically last. Every file is checked against the manifest's SHA-256 before it
is parsed; a modified, truncated or swapped file is refused with
:class:`~knowledge.exceptions.IndexIntegrityError`.

Updates are incremental: a post whose text is unchanged keeps its vector, identical texts
are embedded once, and posts no longer in the workspace (deleted, forgotten) are dropped.
Outcomes are refreshed on every update, since likes keep arriving after a post goes out.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from foundation.exceptions import InputError
from knowledge import _faiss
from knowledge._embeddings import (
    MiniLMEmbeddings,
    embed_array,
    embed_in_batches,
    embeddings_name,
)
from knowledge._store import IndexFormat, StoredIndex
from knowledge._types import IndexConfig
from knowledge.exceptions import IndexIntegrityError, IndexNotFoundError

if TYPE_CHECKING:
    import duckdb
    import pandas as pd

    from foundation.workspace import Workspace

POST_INDEX_DIR_NAME = "post-index"
_POST_INDEX = IndexFormat(
    name="beacon-posts/1",
    label="post index",
    docstore="posts",
    rows="posts",
    build="build it with `beacon knowledge index-posts` (or `beacon demo`)",
    rebuild="rebuild it with `beacon knowledge index-posts --rebuild --index {index_dir}`",
)
_CANDIDATES = 50  # neighbours fetched before de-duplicating identical texts

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress("posts", embedded, to_embed)`` while new texts are embedded."""


def default_post_index_dir(workspace_path: Path | None = None) -> Path:
    """``post-index`` next to ``workspace_path`` (default: the configured workspace file).

    The index is derived from one workspace, so it lives beside it.
    """
    if workspace_path is None:
        from foundation.settings import get_settings

        workspace_path = get_settings().workspace_path
    return Path(workspace_path).expanduser().resolve().with_name(POST_INDEX_DIR_NAME)


@dataclass(frozen=True)
class SimilarPost:
    """One of our posts that resembles the query, with how it did.

    Attributes:
        post_id: The workspace post id (``tw-000123``).
        platform: ``twitter``, ``instagram``, ...
        text: The post's text, verbatim.
        published_at: When it went out (naive UTC).
        score: Cosine similarity between the query and the post, in [-1, 1].
        engagement: Likes + comments + shares when the index was last updated.
        engagement_rate: ``engagement`` over the account's followers at posting time
            (0.041 for 4.1%); None when the follower count is unknown.
        top_30: Whether it landed in the top 30% of its account's trailing history (the
            engagement model's target); None while the account had under 5 earlier posts.
        rank: 1-based position in the result list.
    """

    post_id: str
    platform: str
    text: str
    published_at: datetime
    score: float
    engagement: int
    engagement_rate: float | None
    top_30: bool | None
    rank: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        payload = asdict(self)
        payload["published_at"] = self.published_at.isoformat()
        return payload


@dataclass(frozen=True)
class PostIndexReport:
    """What one :meth:`PostIndex.update` run did.

    Attributes:
        index_dir: The index folder.
        posts: Posts in the index after this run.
        added: Posts indexed for the first time.
        updated: Posts whose text changed (re-embedded).
        removed: Posts no longer in the workspace, dropped.
        unchanged: Posts whose vector was reused.
        embedded: Distinct texts sent to the encoder in this run.
        index_kind: The FAISS index type written.
        seconds: Wall-clock time of the run.
    """

    index_dir: str
    posts: int
    added: int
    updated: int
    removed: int
    unchanged: int
    embedded: int
    index_kind: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class _PostRecord:
    """What the index stores about one post (row i of the docstore is vector i)."""

    post_id: str
    platform: str
    account: str
    text: str
    text_sha256: str
    published_at: str
    engagement: int
    followers: int | None
    top_30: bool | None

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> _PostRecord:
        followers, top = payload["followers"], payload["top_30"]
        return cls(
            post_id=str(payload["post_id"]),
            platform=str(payload["platform"]),
            account=str(payload["account"]),
            text=str(payload["text"]),
            text_sha256=str(payload["text_sha256"]),
            published_at=str(payload["published_at"]),
            engagement=int(payload["engagement"]),
            followers=None if followers is None else int(followers),
            top_30=None if top is None else bool(top),
        )

    def result(self, score: float, rank: int) -> SimilarPost:
        rate = self.engagement / self.followers if self.followers else None
        return SimilarPost(
            post_id=self.post_id,
            platform=self.platform,
            text=self.text,
            published_at=datetime.fromisoformat(self.published_at),
            score=round(score, 4),
            engagement=self.engagement,
            engagement_rate=rate,
            top_30=self.top_30,
            rank=rank,
        )


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _parse_posts(docstore: dict[str, Any]) -> list[_PostRecord]:
    """The records of a posts file (raises KeyError/TypeError/ValueError when malformed)."""
    records = [_PostRecord.from_json(item) for item in docstore["posts"]]
    for record in records:
        datetime.fromisoformat(record.published_at)
    if len({record.post_id for record in records}) != len(records):
        raise ValueError("a post id is listed more than once")
    return records


def _load(index_dir: Path) -> StoredIndex[list[_PostRecord]]:
    """Load and verify a post index folder (raises IndexNotFoundError / IndexIntegrityError)."""
    return _POST_INDEX.load(index_dir, _parse_posts)


def _own_posts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The brand's own posts with the engagement model's outcome columns."""
    import pandas as pd

    from analytics.engagement import add_context, workspace_posts
    from analytics.exceptions import AnalysisInputError

    try:
        posts = workspace_posts(con)
    except AnalysisInputError:  # an empty workspace indexes nothing
        return pd.DataFrame()
    # The engagement model's accounts are account@platform (train_on_workspace).
    model_posts = posts.assign(
        owner=posts["account"], account=posts["account"] + "@" + posts["platform"]
    )
    return add_context(model_posts)


def _records(frame: pd.DataFrame) -> list[_PostRecord]:
    import pandas as pd

    records = []
    for row in frame.itertuples(index=False):
        engagement = sum(
            int(value) for value in (row.likes, row.comments, row.shares) if not pd.isna(value)
        )
        followers = None if pd.isna(row.followers) or row.followers <= 0 else int(row.followers)
        label = None if pd.isna(row.label) else bool(row.label >= 0.5)
        text = "" if pd.isna(row.text) else str(row.text)
        records.append(
            _PostRecord(
                post_id=str(row.post_id),
                platform=str(row.platform),
                account=str(row.owner),
                text=text,
                text_sha256=_text_sha(text),
                published_at=pd.Timestamp(row.posted_at).to_pydatetime().isoformat(),
                engagement=engagement,
                followers=followers,
                top_30=label,
            )
        )
    return records


class PostIndex:
    """A verified post index loaded once; answers "which of our posts are like this one?".

    Build or refresh one with :meth:`update`, load it with :meth:`open`. Safe to share
    between threads for reading.
    """

    def __init__(
        self, stored: StoredIndex[list[_PostRecord]], embeddings: Embeddings, *, index_dir: Path
    ) -> None:
        self.index_dir = index_dir
        self.manifest = stored.manifest
        self._index = stored.index
        self._vectors = stored.embeddings
        self._records = stored.records
        self._embeddings = embeddings
        self._rows = {record.post_id: row for row, record in enumerate(stored.records)}
        self._platforms = np.array([record.platform for record in stored.records], dtype=object)
        self._top = np.array([record.top_30 is True for record in stored.records], dtype=bool)
        self._config = stored.config

    @classmethod
    def open(
        cls, index_dir: str | Path | None = None, *, embeddings: Embeddings | None = None
    ) -> PostIndex:
        """Load and verify the post index (default: ``post-index`` next to the workspace).

        Args:
            index_dir: The folder written by :meth:`update`.
            embeddings: Must be the model the index was built with (default: the packaged
                all-MiniLM-L6-v2, shared with the rest of the process).

        Raises:
            IndexNotFoundError: Nothing was indexed there.
            IndexIntegrityError: A file fails its checksum or the files disagree.
            KnowledgeError: The index was built with another embedding model.
        """
        path = Path(index_dir).expanduser().resolve() if index_dir else default_post_index_dir()
        stored = _load(path)
        embeddings = embeddings or MiniLMEmbeddings()
        _POST_INDEX.check_model(
            path,
            stored,
            embeddings_name(embeddings),
            "pass the same model or rebuild with `beacon knowledge index-posts --rebuild`",
        )
        return cls(stored, embeddings, index_dir=path)

    @staticmethod
    def update(
        workspace: Workspace,
        index_dir: str | Path | None = None,
        *,
        embeddings: Embeddings | None = None,
        config: IndexConfig | None = None,
        rebuild: bool = False,
        progress: ProgressCallback | None = None,
        batch_size: int = 64,
    ) -> PostIndexReport:
        """Build or refresh the post index of ``workspace``'s own posts.

        Only posts that are new or whose text changed are embedded (each distinct text
        once); posts gone from the workspace are dropped; outcomes are refreshed.

        Args:
            workspace: The workspace to index.
            index_dir: Index folder (default: ``post-index`` next to the workspace file).
            embeddings: LangChain embeddings (default: the packaged all-MiniLM-L6-v2).
            config: FAISS parameters (default :class:`IndexConfig`: exact search up to
                100,000 posts).
            rebuild: Ignore (and replace) an existing index, even a damaged one.
            progress: Optional ``progress("posts", done, total)`` callback.
            batch_size: Texts per encoder call.

        Raises:
            IndexIntegrityError: The existing index is damaged (pass ``rebuild=True``).
            KnowledgeError: The existing index was built with another model.
        """
        started = time.perf_counter()
        path = (
            Path(index_dir).expanduser().resolve()
            if index_dir
            else default_post_index_dir(workspace.path)
        )
        embeddings = embeddings or MiniLMEmbeddings(batch_size=batch_size)
        model = embeddings_name(embeddings)
        config = config or IndexConfig()
        stored: StoredIndex[list[_PostRecord]] | None = None
        if not rebuild:
            try:
                stored = _load(path)
            except IndexNotFoundError:
                stored = None
        if stored is not None:
            _POST_INDEX.check_model(
                path, stored, model, "rebuild it with `beacon knowledge index-posts --rebuild`"
            )
        records: list[_PostRecord] = []
        if workspace.path.exists():  # no workspace yet: an empty index
            with workspace.connect(read_only=True) as con:
                records = _records(_own_posts(con))

        old_rows = {r.post_id: i for i, r in enumerate(stored.records)} if stored else {}
        old_by_text: dict[str, int] = {}
        if stored is not None:
            for row, record in enumerate(stored.records):
                old_by_text.setdefault(record.text_sha256, row)
        added = updated = unchanged = 0
        todo: dict[str, str] = {}
        for record in records:
            previous = old_rows.get(record.post_id)
            if previous is None:
                added += 1
            elif stored is not None and stored.records[previous].text_sha256 != record.text_sha256:
                updated += 1
            else:
                unchanged += 1
            if record.text_sha256 not in old_by_text:
                todo.setdefault(record.text_sha256, record.text)
        current = {record.post_id for record in records}
        removed = sum(1 for post_id in old_rows if post_id not in current)

        notify = progress or (lambda _stage, _done, _total: None)
        fresh = embed_in_batches(
            embeddings,
            list(todo.values()),
            batch_size,
            lambda done, total: notify("posts", done, total),
        )
        dim = getattr(embeddings, "dimension", None) or (
            fresh.shape[1] if fresh.size else (stored.embeddings.shape[1] if stored else 0)
        )
        by_text: dict[str, np.ndarray] = dict(zip(todo, fresh, strict=True))
        vectors = np.zeros((len(records), int(dim)), dtype=np.float32)
        for row, record in enumerate(records):
            found = by_text.get(record.text_sha256)
            if found is None and stored is not None:
                found = stored.embeddings[old_by_text[record.text_sha256]]
            if found is None or found.shape != (dim,):
                raise IndexIntegrityError(
                    f"stored vectors of {path} do not have dim {dim}; rebuild it with "
                    "`beacon knowledge index-posts --rebuild`"
                )
            vectors[row] = found
        index = _faiss.build_faiss_index(vectors, config)
        _POST_INDEX.save(
            path,
            index,
            vectors,
            {"posts": [asdict(record) for record in records]},
            embedding_model=model,
            config=config,
            workspace=str(workspace.path.resolve()),
        )
        return PostIndexReport(
            index_dir=str(path),
            posts=len(records),
            added=added,
            updated=updated,
            removed=removed,
            unchanged=unchanged,
            embedded=len(todo),
            index_kind=_faiss.index_kind(index),
            seconds=round(time.perf_counter() - started, 3),
        )

    @property
    def size(self) -> int:
        """Number of indexed posts."""
        return len(self._records)

    @property
    def updated_at(self) -> datetime:
        """When the index was last written (UTC)."""
        return datetime.fromisoformat(str(self.manifest["created"]))

    def __contains__(self, post_id: object) -> bool:
        return post_id in self._rows

    def similar(
        self,
        text: str | None = None,
        *,
        post_id: str | None = None,
        k: int = 3,
        platform: str | None = None,
        exclude: Iterable[str] = (),
        top_30_only: bool = False,
        distinct_text: bool = True,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> list[SimilarPost]:
        """Our posts most like ``text`` or like the indexed post ``post_id``.

        With ``post_id`` of an indexed post its stored vector is the query (nothing is
        encoded) and the post itself is left out; when the post is not indexed yet (newer
        than the last update), ``text`` is embedded instead.

        Args:
            text: The query text (a draft, a template post).
            post_id: A workspace post to find neighbours of (left out of the results).
            k: Posts wanted.
            platform: Only posts on this platform.
            exclude: Post ids to leave out.
            top_30_only: Only posts that landed in their account's top 30%.
            distinct_text: Show one post per identical text (the most recent one).
            con: A workspace connection; when given, posts deleted or forgotten since the
                last update are left out.

        Returns:
            Up to ``k`` posts, most similar first.

        Raises:
            InputError: Neither a usable ``text`` nor an indexed ``post_id`` was given,
                or ``k`` is below 1.
        """
        if k < 1:
            raise InputError(f"k must be at least 1 (got {k})")
        skip = set(exclude)
        query: np.ndarray
        row = self._rows.get(post_id) if post_id else None
        if post_id:
            skip.add(post_id)
        if row is not None:
            query = self._vectors[row]
        elif text is not None and text.strip():
            query = embed_array(self._embeddings, [text])[0]
        else:
            got = (
                f"post {post_id!r} is not indexed and no text was given"
                if post_id
                else "got an empty text"
            )
            raise InputError(
                f"similar() needs a non-empty text or an indexed post id ({got}); "
                "refresh the index with `beacon knowledge index-posts`"
            )
        if self.size == 0:
            return []
        mask = np.ones(self.size, dtype=bool)
        if platform is not None:
            mask &= self._platforms == platform
        if top_30_only:
            mask &= self._top
        for post in skip:
            if (excluded := self._rows.get(post)) is not None:
                mask[excluded] = False
        allowed = np.flatnonzero(mask)
        if allowed.size == 0:
            return []
        pool = min(int(allowed.size), max(_CANDIDATES, 10 * k))
        scores, ids = _faiss.search(
            self._index,
            query[None, :],
            pool,
            None if allowed.size == self.size else allowed.astype(np.int64),
            self._config,
        )
        hits = [(float(s), int(i)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0]
        # Identical texts score the same: the most recent one first.
        hits.sort(key=lambda hit: self._records[hit[1]].published_at, reverse=True)
        hits.sort(key=lambda hit: -round(hit[0], 5))
        present = _present(con, [self._records[i].post_id for _, i in hits]) if con else None
        results: list[SimilarPost] = []
        seen_texts: set[str] = set()
        for score, i in hits:
            record = self._records[i]
            if present is not None and record.post_id not in present:
                continue
            if distinct_text:
                if record.text_sha256 in seen_texts:
                    continue
                seen_texts.add(record.text_sha256)
            results.append(record.result(score, len(results) + 1))
            if len(results) == k:
                break
        return results


def _present(con: duckdb.DuckDBPyConnection, post_ids: Sequence[str]) -> set[str]:
    """Which of ``post_ids`` are still in the workspace."""
    if not post_ids:
        return set()
    rows = con.execute(
        "SELECT post_id FROM posts WHERE list_contains(?, post_id)", [list(post_ids)]
    ).fetchall()
    return {str(row[0]) for row in rows}
