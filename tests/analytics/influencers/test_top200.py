"""Top-200 ingest into the workspace (quarantine with reasons) and validation on the real file."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from analytics.influencers import (
    EngagementShrinker,
    ingest_top200,
    load_creators_from_workspace,
    load_top200,
    observe_engagement,
)
from foundation.workspace import Pseudonymizer, Workspace

HEADER = "rank,channel_info,influence_score,posts,followers,avg_likes,60_day_eng_rate,new_post_avg_like,total_likes,country"
ROWS = [
    "1,cristiano,92,3.3k,475.8m,8.7m,1.39%,6.5m,29.0b,Spain",
    "2,leomessi,90,0.89k,357.3m,6.8m,1.24%,4.4m,6.0b,",
    "3,rkive,83,0.11k,37.0m,10.9m,NaN%,0,1.2b,",
    "4,5-Minute Crafts GIRLY,85,10.0k,46.5m,157.0k,0.03%,12.4k,1.6b,United States",
    "5,drogba,80,1.2k,12.1m,,2.50%,300.0k,400.0m,CÃ´te d'Ivoire",
    "6,nofollowers,80,1.2k,,1.0k,2.50%,1.0k,1.0m,France",
    "7,cristiano,92,3.3k,475.8m,8.7m,1.39%,6.5m,29.0b,Spain",
]
REAL_FILE = "influencers/top_insta_influencers_data.csv"


@pytest.fixture()
def top200_file(tmp_path: Path) -> Path:
    path = tmp_path / "top200.csv"
    path.write_text("\ufeff" + HEADER + "\n" + "\n".join(ROWS) + "\n", encoding="utf-8")
    return path


def test_ingest_quarantines_bad_rows_with_reasons(top200_file: Path, tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "w.duckdb")
    pseudonymizer = Pseudonymizer(b"k")
    with workspace.connect() as con:
        report = ingest_top200(con, top200_file, pseudonymizer=pseudonymizer)
        again = ingest_top200(con, top200_file, pseudonymizer=pseudonymizer)
        quarantined = con.execute(
            "SELECT DISTINCT line_no, reason, raw FROM quarantine ORDER BY line_no"
        ).fetchall()
        stored = con.execute(
            "SELECT influencer_id, handle, followers, engagement_rate, country FROM influencers "
            "ORDER BY followers DESC"
        ).fetchall()
    assert report.read == 7 == report.stored + report.duplicates + report.quarantined
    assert (report.stored, report.quarantined) == (3, 4)
    assert (again.stored, again.duplicates) == (0, 3)
    by_line = {line: reason for line, reason, _ in quarantined}
    assert len(quarantined) == 4
    assert "60_day_eng_rate must be a percentage" in by_line[4]
    assert "must be an Instagram handle" in by_line[5]
    assert by_line[7] == "missing followers"
    assert by_line[8] == "channel_info 'cristiano' repeated"
    # Quarantined raw rows keep no real handle.
    assert all("rkive" not in raw and "nofollowers" not in raw for _, _, raw in quarantined)
    assert json.loads(quarantined[0][2])["channel_info"].startswith("acct_")
    top = stored[0]
    assert top[1] == pseudonymizer.account("cristiano") and top[0] == f"inf-{top[1]}"
    assert top[2] == 475_800_000 and top[3] == pytest.approx(0.0139)
    assert {row[4] for row in stored} == {"Spain", None, "Côte d'Ivoire"}
    with workspace.connect(read_only=True) as con:
        creators = load_creators_from_workspace(con)
    assert len(creators) == 3 and all(not c.posts for c in creators)


@pytest.mark.shared_data
def test_real_file_parses_and_quarantines(shared_data_dir: Path) -> None:
    creators, rejected = load_top200(shared_data_dir / REAL_FILE)
    assert len(creators) + len(rejected) == 200
    reasons = {raw["channel_info"]: reason for _, reason, raw in rejected}
    assert "60_day_eng_rate must be a percentage" in reasons["rkive"]
    assert all(reasons.values())
    by_handle = {c.handle: c for c in creators}
    assert by_handle["cristiano"].followers == 475_800_000
    assert by_handle["cristiano"].posts_count == 3_300
    assert by_handle["leomessi"].country is None
    assert any(c.country == "Côte d'Ivoire" for c in creators)


@pytest.mark.shared_data
def test_real_file_shrinkage_moves_the_expected_way(shared_data_dir: Path) -> None:
    creators, _ = load_top200(shared_data_dir / REAL_FILE)
    as_of = datetime(2022, 1, 1)
    observations = [o for c in creators if (o := observe_engagement(c, as_of=as_of))]
    shrinker = EngagementShrinker().fit(observations)
    estimates = [shrinker.estimate(o) for o in observations]
    raw = np.array([e.raw_rate for e in estimates])
    shrunk = np.array([e.rate for e in estimates])
    tier = estimates[0].tier_rate
    assert {e.tier for e in estimates} == {"mega"}
    # Every rate moves toward the tier's typical rate, never past it.
    assert np.all((shrunk - tier) * (raw - tier) >= -1e-12)
    assert np.all(np.abs(np.log(shrunk / tier)) <= np.abs(np.log(raw / tier)) + 1e-9)
    # Accounts with fewer posts are pulled harder, so rank changes follow the evidence.
    posts = np.array([o.n for o in observations])
    raw_rank = stats.rankdata(-raw)
    shrunk_rank = stats.rankdata(-shrunk)
    moved = shrunk_rank != raw_rank
    assert moved.any()
    high = raw > tier
    few = posts <= 2
    assert few.sum() >= 10
    assert np.all(shrunk_rank[high & few] >= raw_rank[high & few])
    assert np.all(shrunk_rank[~high & few] <= raw_rank[~high & few])
