"""The similar-posts index: which posts, incremental updates, tamper refusal, relevance."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from foundation.exceptions import InputError
from foundation.workspace import Pseudonymizer, Workspace, ingest_rows, set_meta
from knowledge import (
    IndexIntegrityError,
    IndexNotFoundError,
    PostIndex,
    PostIndexReport,
    default_post_index_dir,
)
from tests.knowledge.conftest import CountingEmbeddings

BRAND = "trailbird_test"
CUSTOMER = "happy_runner"
START = datetime(2026, 5, 1, 9, 0)

# (platform, text); posts alternate between two platforms, one a day.
OWN_POSTS = [
    ("twitter", "Our new Canyon GTX trail shoe has grip for wet rock and a cushioned ride."),
    ("instagram", "Sunrise run on the ridge this morning, who else was out early?"),
    ("twitter", "Restock alert: the Summit rain jacket is back in every size."),
    ("instagram", "Recipe: oat and banana energy bars for your long runs."),
    ("twitter", "Race day tips: sleep well, eat early and start slow."),
    ("instagram", "Meet Ana, our ambassador who ran 100 km across the Alps."),
    ("twitter", "How we test jackets: 1,000 km of rain, wind and snow."),
    ("instagram", "Trail clean-up this Saturday, bring gloves and a friend."),
    ("twitter", "Sale ends tonight: 20% off all running socks."),
    ("instagram", "New Canyon GTX colourways just dropped, which one is yours?"),
    ("twitter", "Sunrise run on the ridge this morning, who else was out early?"),
    ("instagram", "Shipping update: orders placed today arrive before the weekend."),
]
CUSTOMER_POSTS = [
    ("twitter", "My Canyon GTX shoes fell apart after two weeks, very disappointed."),
    ("instagram", "Loving my new trail shoe, best grip ever on wet rock."),
]


def _row(n: int, handle: str, platform: str, text: str, likes: int) -> dict[str, Any]:
    prefix = "tw" if platform == "twitter" else "ig"
    return {
        "post_id": f"{prefix}-{n:06d}",
        "platform": platform,
        "account": handle,
        "text": text,
        "posted_at": (START + timedelta(days=n)).isoformat() + "+00:00",
        "followers": 10_000,
        "likes": likes,
        "comments": 3,
        "shares": 2,
    }


def make_workspace(path: Path) -> Workspace:
    """A small workspace: 12 brand posts on two platforms and 2 customer posts."""
    workspace = Workspace(path)
    pseudonymizer = Pseudonymizer(b"post-index-test")
    rows = [
        _row(n, BRAND, platform, text, likes=40 + 37 * (n % 5))
        for n, (platform, text) in enumerate(OWN_POSTS, start=1)
    ] + [
        _row(100 + n, CUSTOMER, platform, text, likes=5)
        for n, (platform, text) in enumerate(CUSTOMER_POSTS, start=1)
    ]
    with workspace.connect() as con:
        report = ingest_rows(
            con, enumerate(rows, start=1), source="test", pseudonymizer=pseudonymizer
        )
        assert report.stored == len(rows)
        set_meta(con, "own_accounts", [pseudonymizer.account(BRAND)])
    return workspace


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Path, PostIndexReport]:
    """The small workspace and its post index, built once (read-only)."""
    workspace = make_workspace(tmp_path_factory.mktemp("posts") / "beacon.duckdb")
    report = PostIndex.update(workspace)
    return workspace, Path(report.index_dir), report


@pytest.fixture(scope="module")
def index(built: tuple[Workspace, Path, PostIndexReport]) -> PostIndex:
    return PostIndex.open(built[1])


@pytest.fixture()
def private(built: tuple[Workspace, Path, PostIndexReport], tmp_path: Path) -> Workspace:
    """A writable copy of the small workspace with its index next to it."""
    workspace, index_dir, _ = built
    shutil.copy(workspace.path, tmp_path / "beacon.duckdb")
    shutil.copytree(index_dir, tmp_path / "post-index")
    return Workspace(tmp_path / "beacon.duckdb")


def _file(index_dir: Path, role: str) -> Path:
    manifest = json.loads((index_dir / "manifest.json").read_text())
    return index_dir / manifest["files"][role]["name"]


def test_only_the_brands_own_posts_are_indexed(
    built: tuple[Workspace, Path, PostIndexReport], index: PostIndex
) -> None:
    workspace, index_dir, report = built
    assert index_dir == default_post_index_dir(workspace.path)
    assert (report.posts, report.added, report.removed) == (12, 12, 0)
    # Two posts share a text: eleven distinct texts were embedded.
    assert report.embedded == 11
    assert index.size == 12
    assert "tw-000001" in index and "tw-000101" not in index and "ig-000102" not in index


def test_a_near_duplicate_finds_its_post_first(index: PostIndex) -> None:
    hits = index.similar("Restock alert! The Summit rain jacket is back, every size.", k=3)
    assert hits[0].post_id == "tw-000003"
    assert hits[0].score > 0.9 > hits[1].score
    assert [hit.rank for hit in hits] == [1, 2, 3]


def test_platform_filter_and_exclusions(index: PostIndex) -> None:
    query = "new Canyon GTX trail shoe"
    everywhere = index.similar(query, k=2)
    assert {hit.post_id for hit in everywhere} == {"tw-000001", "ig-000010"}
    on_instagram = index.similar(query, k=4, platform="instagram")
    assert on_instagram[0].post_id == "ig-000010"
    assert all(hit.platform == "instagram" for hit in on_instagram) and len(on_instagram) == 4
    without = index.similar(query, k=2, exclude=["tw-000001"])
    assert "tw-000001" not in {hit.post_id for hit in without}
    assert index.similar(query, platform="tiktok") == []


def test_by_post_id_the_post_itself_is_left_out(index: PostIndex) -> None:
    hits = index.similar(post_id="tw-000007", k=3)  # "How we test jackets: ..."
    assert hits[0].post_id == "tw-000003"  # "... the Summit rain jacket is back ..."
    assert "tw-000007" not in {hit.post_id for hit in hits}
    # The stored vector is the post's text embedding: same neighbours as by text.
    by_text = index.similar("How we test jackets: 1,000 km of rain, wind and snow.", k=4)
    assert by_text[0].post_id == "tw-000007"
    assert [hit.post_id for hit in hits] == [hit.post_id for hit in by_text[1:]]


def test_identical_texts_show_once_the_most_recent(index: PostIndex) -> None:
    query = "Sunrise run on the ridge this morning"
    distinct = index.similar(query, k=3)
    assert distinct[0].post_id == "tw-000011"  # posted after ig-000002, same text
    assert "ig-000002" not in {hit.post_id for hit in distinct}
    both = index.similar(query, k=2, distinct_text=False)
    assert {hit.post_id for hit in both} == {"tw-000011", "ig-000002"}


def test_outcomes_come_with_each_post(index: PostIndex) -> None:
    hit = index.similar("Restock alert: the Summit rain jacket is back in every size.", k=1)[0]
    likes = 40 + 37 * (3 % 5)
    assert hit.engagement == likes + 3 + 2
    assert hit.engagement_rate == pytest.approx((likes + 5) / 10_000)
    assert hit.published_at == START + timedelta(days=3)
    assert hit.top_30 is None  # the account had fewer than 5 earlier twitter posts


def test_bad_queries_are_refused(index: PostIndex) -> None:
    with pytest.raises(InputError, match=r"needs a non-empty text .*got an empty text"):
        index.similar("   ")
    with pytest.raises(InputError, match=r"post 'tw-009999' is not indexed and no text"):
        index.similar(post_id="tw-009999")
    with pytest.raises(InputError, match=r"k must be at least 1 \(got 0\)"):
        index.similar("shoes", k=0)
    # An unindexed post with its text is embedded instead.
    assert index.similar("Race day tips: sleep and start slow", post_id="tw-009999")


def test_update_embeds_only_new_and_changed_texts(private: Workspace) -> None:
    with private.connect() as con:
        con.execute(
            "UPDATE posts SET text = 'Ultra training plan: week one.' WHERE post_id = ?",
            ["tw-000009"],
        )
        con.execute("DELETE FROM posts WHERE post_id = 'ig-000004'")
        con.execute(
            "INSERT INTO posts SELECT 'ig-000013', platform, account, "
            "'Sunrise run on the ridge this morning, who else was out early?', "
            "posted_at + INTERVAL 20 DAY, followers, likes, comments, shares, views, media_type, "
            "media_path, campaign_id, source, ingested_at FROM posts WHERE post_id = 'ig-000002'"
        )
    counting = CountingEmbeddings()
    report = PostIndex.update(private, embeddings=counting)
    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 1, 1, 10)
    # The new post repeats a known text: only the changed text is embedded.
    assert (report.embedded, counting.embedded) == (1, 1)
    index = PostIndex.open(private.path.with_name("post-index"))
    assert index.size == 12 and "ig-000004" not in index and "ig-000013" in index
    assert index.similar("ultra training plan", k=1)[0].post_id == "tw-000009"
    again = PostIndex.update(private, embeddings=counting)
    assert (again.embedded, again.unchanged, counting.embedded) == (0, 12, 1)


def test_posts_gone_since_the_update_are_left_out(private: Workspace) -> None:
    index = PostIndex.open(private.path.with_name("post-index"))
    with private.connect() as con:
        con.execute("DELETE FROM posts WHERE post_id = 'tw-000003'")
        hits = index.similar("Restock alert: the Summit rain jacket is back.", k=2, con=con)
    assert "tw-000003" not in {hit.post_id for hit in hits} and len(hits) == 2


def test_tampered_posts_file_is_refused(private: Workspace) -> None:
    index_dir = private.path.with_name("post-index")
    posts = _file(index_dir, "posts")
    text = posts.read_text(encoding="utf-8")
    assert "Sale ends tonight" in text
    posts.write_text(text.replace("Sale ends tonight", "Everything is free"), encoding="utf-8")
    with pytest.raises(IndexIntegrityError, match=r"posts file .* failed its checksum"):
        PostIndex.open(index_dir)
    with pytest.raises(IndexIntegrityError, match=r"index-posts --rebuild"):
        PostIndex.update(private)
    report = PostIndex.update(private, rebuild=True)
    assert report.added == 12 and PostIndex.open(index_dir).size == 12


def test_tampered_vectors_and_foreign_file_names_are_refused(private: Workspace) -> None:
    index_dir = private.path.with_name("post-index")
    vectors = _file(index_dir, "vectors")
    data = bytearray(vectors.read_bytes())
    data[-5] ^= 0xFF
    vectors.write_bytes(bytes(data))
    with pytest.raises(IndexIntegrityError, match=r"vectors file .* failed its checksum"):
        PostIndex.open(index_dir)
    manifest_path = index_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["files"]["posts"]["name"] = "../../beacon.duckdb"
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIntegrityError, match=r"names an unexpected posts file"):
        PostIndex.open(index_dir)


def test_missing_index_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(
        IndexNotFoundError, match=r"no post index at .*beacon knowledge index-posts"
    ):
        PostIndex.open(tmp_path / "post-index")


def test_an_empty_workspace_gives_an_empty_index(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "empty.duckdb")
    report = PostIndex.update(workspace)
    assert (report.posts, report.embedded) == (0, 0)
    assert PostIndex.open(report.index_dir).similar("anything at all") == []


def test_cli_index_posts(private: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from beacon.cli._knowledge import app
    from foundation.settings import get_settings

    runner = CliRunner()
    monkeypatch.setenv("BEACON_HOME", str(private.path.parent))
    monkeypatch.setenv("BEACON_WORKSPACE", str(private.path))
    get_settings.cache_clear()
    try:
        result = runner.invoke(app, ["index-posts", "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["index_dir"] == str(private.path.with_name("post-index").resolve())
        assert (report["posts"], report["unchanged"], report["embedded"]) == (12, 12, 0)
        _file(private.path.with_name("post-index"), "posts").write_text("{}")
        damaged = runner.invoke(app, ["index-posts"])
        assert damaged.exit_code == 2
        assert damaged.stderr.startswith("error: posts file ")
        assert "--rebuild" in damaged.stderr
        rebuilt = runner.invoke(app, ["index-posts", "--rebuild"])
        assert rebuilt.exit_code == 0, rebuilt.output
        assert "12 added, 0 updated, 0 removed, 0 unchanged; 12 posts" in rebuilt.stdout
        monkeypatch.setenv("BEACON_WORKSPACE", str(private.path.with_name("missing.duckdb")))
        get_settings.cache_clear()
        missing = runner.invoke(app, ["index-posts"])
        assert missing.exit_code == 2 and missing.stderr.startswith("error: no workspace at")
    finally:
        get_settings.cache_clear()
