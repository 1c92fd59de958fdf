"""The engagement ensemble: target without leakage, metrics, demo-brand training, real data."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from analytics.engagement import (
    Draft,
    EngagementModel,
    add_context,
    evaluate,
    expected_calibration_error,
    read_posts,
    time_split,
    train_on_workspace,
)
from analytics.engagement._combine import BayesianCombiner, Calibrator
from analytics.engagement._target import CONTEXT_COLUMNS, AccountHistory
from analytics.exceptions import AnalysisInputError, ModelLoadError, NotFittedError
from beacon.demo import build_demo
from foundation.workspace import Pseudonymizer, Workspace


def _posts(n: int, account: str = "a") -> pd.DataFrame:
    stamps = pd.date_range("2024-01-01", periods=n, freq="D")
    return pd.DataFrame(
        {
            "account": account,
            "text": [f"post {i}" for i in range(n)],
            "posted_at": stamps,
            "likes": np.arange(n) % 7,
            "comments": 0,
            "shares": 0,
        }
    )


def test_context_uses_only_earlier_posts() -> None:
    posts = _posts(30)
    before = add_context(posts)
    changed = posts.copy()
    changed.loc[29, "likes"] = 10_000  # the future must not move earlier rows
    after = add_context(changed)
    cols = ["trailing_median", "trailing_q70", "recent_median", "recent_hit_rate", "label"]
    pd.testing.assert_frame_equal(before[cols].iloc[:29], after[cols].iloc[:29])
    assert before["label"].iloc[:5].isna().all()  # fewer than 5 earlier posts: no label
    row = before.iloc[10]
    earlier = np.log1p(np.arange(10) % 7)
    assert row["trailing_q70"] == pytest.approx(np.quantile(earlier, 0.7))
    assert row["label"] == float(np.log1p(10 % 7) > np.quantile(earlier, 0.7))


def test_recent_hit_rate_is_the_share_of_recent_posts_that_beat_their_bar() -> None:
    posts = _posts(60)
    posts["likes"] = (np.arange(60) * 7) % 11  # irregular, so hits and misses mix
    frame = add_context(posts)
    assert np.isnan(frame["recent_hit_rate"].iloc[5])  # no labelled post before it yet
    assert frame["recent_hit_rate"].iloc[6] == frame["label"].iloc[5]
    assert frame["recent_hit_rate"].iloc[45] == pytest.approx(frame["label"].iloc[25:45].mean())
    assert 0.0 < frame["recent_hit_rate"].iloc[45] < 1.0
    # A draft scored later from the saved history sees exactly what training saw.
    history = AccountHistory.from_posts(frame.iloc[:45])
    draft = history.context("a", frame["posted_at"].iloc[45])
    for column in CONTEXT_COLUMNS:
        assert draft[column] == pytest.approx(frame[column].iloc[45]), column


def test_ece_and_combiners() -> None:
    y = np.array([0, 0, 1, 1])
    assert expected_calibration_error(y, np.array([0.0, 0.0, 1.0, 1.0])) == 0.0
    assert expected_calibration_error(y, np.full(4, 0.5)) == pytest.approx(0.0)
    assert expected_calibration_error(np.ones(4), np.full(4, 0.2)) == pytest.approx(0.8)
    rng = np.random.default_rng(0)
    truth = rng.random(2000)
    labels = (rng.random(2000) < truth).astype(float)
    good, noise = truth, rng.random(2000)
    bmc = BayesianCombiner(n_samples=500).fit(np.column_stack([good, noise]), labels)
    assert bmc.weights_.sum() == pytest.approx(1.0)
    assert bmc.weights_[0] > 0.8
    squashed = truth**3
    calibrated = Calibrator("isotonic").fit(squashed, labels).transform(squashed)
    assert expected_calibration_error(labels, calibrated) < expected_calibration_error(
        labels, squashed
    )
    with pytest.raises(ValueError, match="calibration must be"):
        Calibrator("magic").fit(squashed, labels)


def test_errors_are_explained() -> None:
    with pytest.raises(NotFittedError, match="not fitted yet"):
        EngagementModel().predict([Draft("hi")])
    with pytest.raises(AnalysisInputError, match="need at least 60 posts"):
        EngagementModel().fit(_posts(20))
    with pytest.raises(AnalysisInputError, match="missing posted_at"):
        EngagementModel().fit(_posts(20).drop(columns="posted_at"))
    with pytest.raises(ModelLoadError, match="no engagement model"):
        EngagementModel.load(Path("/nonexistent/model"))


@pytest.fixture(scope="module")
def demo_model(tmp_path_factory: pytest.TempPathFactory) -> EngagementModel:
    path = tmp_path_factory.mktemp("engagement-demo") / "beacon.duckdb"
    workspace = Workspace(path)
    build_demo(workspace, Pseudonymizer(b"test"), end_date=date(2026, 11, 30))
    with workspace.connect(read_only=True) as con:
        return train_on_workspace(con, cache_dir=tmp_path_factory.mktemp("cache"))


def test_demo_brand_model_finds_planted_effects(
    demo_model: EngagementModel, tmp_path: Path
) -> None:
    account = next(a for a in demo_model.history_.times if a.endswith("@instagram"))
    text = "New colourways of the Sprint 3 just dropped. Which one is yours? #trailrunning"
    saturday_evening = datetime(2026, 12, 5, 18, 30)
    monday_morning = datetime(2026, 12, 7, 7, 30)
    good = Draft(text, account=account, posted_at=saturday_evening, media_type="video")
    poor = Draft(text, account=account, posted_at=monday_morning, media_type="image")
    p_good, p_poor = demo_model.predict([good, poor])
    assert 0.0 < p_poor.probability < p_good.probability < 1.0
    assert p_good.interval[0] <= p_good.expected_engagement <= p_good.interval[1]

    explanation = demo_model.explain(poor, now=datetime(2026, 12, 1))
    assert len(explanation.reasons) == 3
    assert "top 30%" in explanation.text() and "Strongest reasons" in explanation.text()

    recs = demo_model.recommend(poor, now=datetime(2026, 12, 1, 8))
    assert recs and all(r.after > r.before for r in recs)
    assert {r.kind for r in recs} & {"time", "media"}
    assert all(r.confidence in {"high", "medium", "low"} for r in recs)

    demo_model.save(tmp_path / "model")
    assert not list((tmp_path / "model").glob("*.pkl"))
    loaded = EngagementModel.load(tmp_path / "model")
    again = loaded.predict([good, poor])
    assert [p.probability for p in again] == pytest.approx([p_good.probability, p_poor.probability])


def test_history_merge_keeps_older_posts_and_takes_the_new_ones() -> None:
    day = 86_400
    history = AccountHistory(
        {"a": np.arange(10, dtype=np.int64) * day, "b": np.array([0], dtype=np.int64)},
        {"a": np.zeros(10), "b": np.ones(1)},
    )
    newer = _posts(5).assign(posted_at=pd.to_datetime(np.arange(8, 13) * day, unit="s"))
    newer["likes"] = 99
    merged = history.merged(pd.concat([newer, _posts(3, account="c")], ignore_index=True))
    # "a": days 0-7 stored, then the table's days 8-12 (its day 8 and 9 replace the stored ones)
    np.testing.assert_array_equal(merged.times["a"], np.arange(13) * day)
    np.testing.assert_allclose(merged.values["a"], [0.0] * 8 + [np.log1p(99)] * 5)
    assert merged.times["b"].tolist() == [0] and len(merged.times["c"]) == 3
    # a table that stops early leaves the stored posts after it in place
    middle = _posts(2).assign(posted_at=pd.to_datetime([3 * day, 4 * day], unit="s"), likes=50)
    np.testing.assert_array_equal(history.merged(middle).times["a"], np.arange(10) * day)
    np.testing.assert_allclose(
        history.merged(middle).values["a"][2:6], [0, np.log1p(50), np.log1p(50), 0]
    )
    assert len(history.times["a"]) == 10 and "c" not in history.times  # the original is untouched


def test_with_posts_reads_context_from_posts_after_training(
    demo_model: EngagementModel, tmp_path: Path
) -> None:
    account = next(a for a in demo_model.history_.times if a.endswith("@instagram"))
    last = pd.Timestamp(int(demo_model.history_.times[account][-1]), unit="s")
    later = pd.DataFrame(
        {
            "account": account,
            "posted_at": last + pd.to_timedelta(np.arange(1, 31), unit="D"),
            "likes": 5_000_000,
            "comments": 0,
            "shares": 0,
        }
    )
    live = demo_model.with_posts(later)
    when = last + pd.Timedelta(days=31)
    before, after = demo_model.history_.context(account, when), live.history_.context(account, when)
    assert after["trailing_median"] == pytest.approx(np.log1p(5_000_000))
    assert before["trailing_median"] < 10 < after["trailing_median"]
    assert after["posts_7d"] == 7 and before["posts_7d"] == 0
    assert live.trained_until() == demo_model.trained_until()  # retrain still knows what is new
    draft = Draft("Trail shoe drop this Friday", account=account, posted_at=when.to_pydatetime())
    assert live.predict([draft])[0].probability != demo_model.predict([draft])[0].probability
    live.save(tmp_path / "model")  # the saved model keeps the training history
    loaded = EngagementModel.load(tmp_path / "model")
    np.testing.assert_array_equal(
        loaded.history_.times[account], demo_model.history_.times[account]
    )
    with pytest.raises(AnalysisInputError, match="missing likes"):
        demo_model.with_posts(later.drop(columns="likes"))


def _head(source: Path, target: Path, rows: int) -> Path:
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        lines = [row for _, row in zip(range(rows + 1), reader, strict=False)]
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(lines)
    return target


@pytest.mark.shared_data
def test_real_tweets_time_split_and_cli(shared_data_dir: Path, tmp_path: Path) -> None:
    sample = _head(
        shared_data_dir / "engagement" / "elon-musk-tweets" / "2018.csv", tmp_path / "elon.csv", 700
    )
    posts = read_posts(sample, "elon-musk-tweets")
    train, test = time_split(posts, 0.3)
    assert train["posted_at"].max() <= test["posted_at"].min()
    with pytest.raises(AnalysisInputError, match="must all be later"):
        evaluate(test, train)
    report, _ = evaluate(train, test, EngagementModel(n_folds=4, cache_dir=tmp_path / "cache"))
    assert report.ensemble.roc_auc > 0.6  # real signal, not chance
    assert report.ensemble.ece < 0.2
    assert report.ensemble.brier == report.combiners["stacking_uncalibrated"].brier  # no map

    from beacon.cli._engagement import app

    png = tmp_path / "rel.png"
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            "--input",
            str(sample),
            "--format",
            "elon-musk-tweets",
            "--test-fraction",
            "0.3",
            "--reliability",
            str(png),
            "--calibration",
            "platt",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload["members"]) == {"neural", "lightgbm", "logistic"}
    assert set(payload["ensemble"]) == {"roc_auc", "pr_auc", "brier", "ece", "mae_log"}
    assert payload["n_train"] > 0 and payload["n_test"] > 0
    assert set(payload["combiners"]) == {
        "stacking_uncalibrated",
        "stacking_platt_on_out_of_fold_rows",
        "bayesian_model_combination",
    }
    platt = payload["combiners"]["stacking_platt_on_out_of_fold_rows"]
    assert (
        payload["ensemble"]["brier"]
        == platt["brier"]
        != payload["combiners"]["stacking_uncalibrated"]["brier"]
    )
    floor = payload["ensemble_ece_if_calibrated"]
    assert 0 < floor["mean"] < floor["p95"] < 0.2
    assert png.stat().st_size > 1000


def test_cli_refuses_an_unknown_calibration() -> None:
    from beacon.cli._engagement import app

    result = CliRunner().invoke(app, ["train", "--calibration", "sigmoid"])
    assert result.exit_code == 2
    assert "sigmoid" in result.output and "none" in result.output
