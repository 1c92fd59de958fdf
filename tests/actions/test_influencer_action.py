"""action_rank_influencers on the demo creators (two with bought engagement, one lucky)."""

from __future__ import annotations

import pytest

from actions.influencers import ActionRankInfluencers
from actions.parsing import brief_from_request, parse_budget
from actions.services import Services
from tests.actions.conftest import run_action
from tests.conftest import DemoWorkspace

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("who fits trail running under 50k?", 50_000.0),
        ("budget of €5,000 for hiking", 5_000.0),
        ("up to 2.5m", 2_500_000.0),
        ("top creators for yoga", None),
    ],
)
def test_parse_budget(text: str, budget: float | None) -> None:
    assert parse_budget(text) == budget


def test_brief_prefers_the_topic_slot() -> None:
    assert brief_from_request("trail shoes", "who should we use?") == "trail shoes"
    assert brief_from_request(None, "which influencers fit hiking under 5k?") == "hiking"


def test_ranking_reply_has_reasons_and_leaves_out_fakes(
    services: Services, demo_copy: DemoWorkspace
) -> None:
    run = run_action(ActionRankInfluencers(), "staff_rank_influencers.json")
    text = run.text
    assert text.startswith(
        "Creators for “trail running shoes” within a budget of 5,000 EUR (best first):"
    )
    lines = [line for line in text.splitlines() if line[:2] in {"1.", "2.", "3.", "4.", "5."}]
    assert len(lines) == 5
    assert "Why #1 over #2:" in text
    fakes = demo_copy.manifest["creators"]["fake_engagement"]
    with services.workspace.connect() as con:
        handles = dict(con.execute("SELECT influencer_id, handle FROM influencers").fetchall())
        audit = con.execute("SELECT kind FROM audit").fetchall()
    top_two = "\n".join(lines[:2])
    assert not any(handles[fake][:10] in top_two for fake in fakes)
    assert audit == [("influencer_ranking",)]
