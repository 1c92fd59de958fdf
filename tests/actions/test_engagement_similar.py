"""Posts like this one in the engagement answers, from the demo's post index."""

from __future__ import annotations

import json
import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from actions.engagement import (
    ActionExplainPost,
    ActionPredictEngagement,
    ActionRecommendContent,
    similar_post_line,
)
from actions.services import Services
from knowledge import PostIndex, SimilarPost, default_post_index_dir
from tests.actions.conftest import run_action
from tests.conftest import DemoWorkspace

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")

BULLET = re.compile(
    r"^• ((?:tw|ig|fb)-\d{6}) \((?:(top 30%|below top 30%), )?(\d+\.\d)% engagement, "
    r"\d{1,2} [A-Z][a-z]{2}\) “(.+)”$"
)


def _bullets(text: str, heading: str) -> list[re.Match[str]]:
    lines = text.splitlines()
    start = lines.index(heading) + 1
    found = []
    for line in lines[start:]:
        if not line.startswith("• "):
            break
        match = BULLET.match(line)
        assert match, line
        found.append(match)
    return found


@pytest.fixture
def with_index(services: Services, demo: DemoWorkspace) -> Services:
    """The services, pointed at the post index `build_demo` wrote next to the demo."""
    services.post_index_dir = default_post_index_dir(demo.workspace.path)
    return services


def test_the_demo_index_carries_the_engagement_models_outcomes(demo: DemoWorkspace) -> None:
    index = PostIndex.open(default_post_index_dir(demo.workspace.path))
    own = demo.manifest["own_accounts"]
    with demo.workspace.connect() as con:
        count = con.execute(
            "SELECT count(*) FROM posts WHERE list_contains(?, account)", [own]
        ).fetchall()[0][0]
        hits = index.similar(post_id="ig-000045", k=30, platform="instagram", con=con)
        truth = {
            row[0]: row[1:]
            for row in con.execute(
                "SELECT post_id, likes + comments + shares, followers FROM posts "
                "WHERE list_contains(?, post_id)",
                [[hit.post_id for hit in hits]],
            ).fetchall()
        }
    assert index.size == count
    assert len(hits) == 30 and all(hit.platform == "instagram" for hit in hits)
    for hit in hits:
        engagement, followers = truth[hit.post_id]
        assert hit.engagement == engagement
        assert hit.engagement_rate == pytest.approx(engagement / followers)
    labelled = [hit.top_30 for hit in hits if hit.top_30 is not None]
    # The label is "above the account's trailing 70th percentile": about 30% of posts.
    assert len(labelled) >= 25 and 0.1 < sum(labelled) / len(labelled) < 0.5


def test_explain_lists_posts_like_this_one(with_index: Services) -> None:
    text = run_action(ActionExplainPost(), "staff_explain_post.json").text
    bullets = _bullets(text, "Posts like this one:")
    assert len(bullets) == 3
    ids = [match.group(1) for match in bullets]
    assert all(post_id.startswith("ig-") for post_id in ids) and "ig-000045" not in ids
    with with_index.workspace.connect() as con:
        rows = dict(
            con.execute(
                "SELECT post_id, text FROM posts WHERE list_contains(?, post_id)", [ids]
            ).fetchall()
        )
    for match in bullets:
        assert rows[match.group(1)].startswith(match.group(4).rstrip("…"))
    assert text.splitlines()[-1].startswith("Source: the engagement ensemble")
    assert "Similar posts: our post index" in text.splitlines()[-1]
    with with_index.workspace.connect() as con:
        sources = con.execute("SELECT sources FROM audit WHERE kind = 'post_explanation'")
        assert "index:posts" in str(sources.fetchall())


def test_prediction_lists_our_posts_most_like_the_draft(with_index: Services) -> None:
    run = run_action(ActionPredictEngagement(), "staff_predict_engagement.json")
    bullets = _bullets(run.text, "Our posts most like your draft:")
    assert len(bullets) == 2 and all(m.group(1).startswith("ig-") for m in bullets)
    assert "Sprint 3" in bullets[0].group(4)


def test_recommendations_show_similar_posts_that_made_the_top_30(with_index: Services) -> None:
    text = run_action(ActionRecommendContent(), "staff_recommend_instagram.json").text
    template = re.search(r"our latest Instagram post \((ig-\d{6})\)", text)
    assert template
    bullets = _bullets(text, "Similar posts of ours that made the top 30%:")
    assert 1 <= len(bullets) <= 2
    assert all(m.group(2) == "top 30%" and m.group(1) != template.group(1) for m in bullets)


def test_without_a_post_index_the_answer_leaves_the_part_out(services: Services) -> None:
    text = run_action(ActionExplainPost(), "staff_explain_post.json").text
    assert "Strongest reasons:" in text
    assert "Posts like this one" not in text and "post index" not in text


def test_a_damaged_post_index_is_not_used(
    services: Services, demo: DemoWorkspace, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "damaged-post-index"
    shutil.copytree(default_post_index_dir(demo.workspace.path), folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    posts = folder / manifest["files"]["posts"]["name"]
    posts.write_bytes(posts.read_bytes().replace(b"ig-000046", b"ig-999999"))
    services.post_index_dir = folder
    text = run_action(ActionExplainPost(), "staff_explain_post.json").text
    assert "Strongest reasons:" in text and "Posts like this one" not in text
    assert "failed its checksum" in caplog.text


def test_similar_post_line_names_outcome_date_and_quotes_the_text() -> None:
    post = SimilarPost(
        post_id="tw-000123",
        platform="twitter",
        text="Behind the design:  how we tested the Canyon GTX on 1,000 km of trail, "
        "in rain, snow and mud, for six months.",
        published_at=datetime(2026, 10, 2, 9, 30),
        score=0.91,
        engagement=1_722,
        engagement_rate=0.041,
        top_30=True,
        rank=1,
    )
    assert similar_post_line(post) == (
        "tw-000123 (top 30%, 4.1% engagement, 2 Oct) “Behind the design: how we tested the "
        "Canyon GTX on 1,000 km of trail, in rain,…”"
    )
    unknown = similar_post_line(
        SimilarPost("fb-000001", "facebook", "Hi", datetime(2026, 1, 5), 0.5, 12, None, None, 2)
    )
    assert unknown == "fb-000001 (12 likes+comments+shares, 5 Jan) “Hi”"
