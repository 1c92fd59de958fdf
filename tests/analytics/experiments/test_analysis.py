"""The analysis API on small synthetic frames and a throw-away DuckDB workspace."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import NormalIndPower

from analytics.exceptions import AnalysisInputError
from analytics.experiments import (
    analyze_frame,
    analyze_workspace_experiment,
    coerce_metric,
    describe_roi,
    minimum_detectable_effect,
    plot_lifts,
    sample_size,
    srm_check,
)
from foundation.workspace._schema import DDL


def _frame(n: int = 3000, seed: int = 0, lift: float = 0.03) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    variant = np.array(["control", "A", "B"])[rng.integers(0, 3, n)]
    p = np.where(variant == "A", 0.10 + lift, 0.10)
    converted = rng.random(n) < p
    pre = rng.gamma(2.0, 10.0, n)
    revenue = converted * (20 + 0.5 * pre) + rng.normal(0, 1, n)
    return pd.DataFrame(
        {
            "variant": variant,
            "converted": np.where(converted, "TRUE", "FALSE"),
            "clicked": (rng.random(n) < 0.3).astype(int),
            "revenue": revenue,
            "pre": pre,
            "cost": np.where(variant == "control", 0.0, 0.05),
        }
    )


def test_result_json_has_the_contract_keys() -> None:
    res = analyze_frame(_frame(), "variant", "control", ["converted", "revenue"])
    payload = json.loads(json.dumps(res.to_dict()))
    assert set(payload["srm"]) >= {"p_value", "warning"}
    conv = payload["metrics"]["converted"]
    assert conv["kind"] == "binary"
    assert set(conv["variants"]) == {"control", "A", "B"}
    assert set(conv["variants"]["control"]) == {"n", "mean", "is_control"}
    a = conv["variants"]["A"]
    for key in (
        "n",
        "mean",
        "abs_lift",
        "abs_lift_ci",
        "rel_lift",
        "rel_lift_ci",
        "p_value",
        "p_value_adjusted",
        "prob_beats_control",
        "expected_loss",
    ):
        assert key in a
    assert a["abs_lift_ci"][0] < a["abs_lift"] < a["abs_lift_ci"][1]
    assert payload["metrics"]["revenue"]["kind"] == "continuous"
    assert payload["metrics"]["revenue"]["variants"]["A"]["test"] == "Welch t-test"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["TRUE", "FALSE", "TRUE"], [1.0, 0.0, 1.0]),
        (["true", "false", None], [1.0, 0.0, np.nan]),
        ([True, False, True], [1.0, 0.0, 1.0]),
        (["1", "0", "0"], [1.0, 0.0, 0.0]),
        (["2.5", "yes", "no"], [2.5, 1.0, 0.0]),
    ],
)
def test_boolean_columns_are_read_as_numbers(values: list[object], expected: list[float]) -> None:
    out = coerce_metric(pd.Series(values, dtype=object), "m").to_numpy()
    np.testing.assert_array_equal(out, np.array(expected))


def test_bad_inputs_raise_clear_errors() -> None:
    df = _frame(300)
    with pytest.raises(AnalysisInputError, match="control 'nope' is not a value of 'variant'"):
        analyze_frame(df, "variant", "nope", ["clicked"])
    with pytest.raises(AnalysisInputError, match="unknown metric column 'missing'"):
        analyze_frame(df, "variant", "control", ["missing"])
    with pytest.raises(AnalysisInputError, match="must be numeric or boolean"):
        analyze_frame(df, "variant", "control", ["variant"])
    with pytest.raises(AnalysisInputError, match="has no rows"):
        analyze_frame(df.iloc[:0], "variant", "control", ["clicked"])
    with pytest.raises(AnalysisInputError, match="at least two variants"):
        analyze_frame(df[df["variant"] == "control"], "variant", "control", ["clicked"])
    with pytest.raises(AnalysisInputError, match="expected_split must name exactly"):
        analyze_frame(df, "variant", "control", ["clicked"], expected_split={"A": 1, "B": 1})


def test_srm_warns_on_a_broken_split_and_honours_the_planned_split() -> None:
    assert srm_check({"a": 5000, "b": 5000}).warning is False
    broken = srm_check({"a": 5000, "b": 4600})
    assert broken.warning and broken.message and "SAMPLE RATIO MISMATCH" in broken.message
    planned = srm_check({"a": 8000, "b": 2000}, {"a": 0.8, "b": 0.2})
    assert not planned.warning
    assert srm_check({"a": 8000, "b": 2000}).warning


def test_too_little_data_is_flagged() -> None:
    df = _frame(90, seed=1)
    res = analyze_frame(df, "variant", "control", ["converted"])
    assert res.too_little_data
    assert res.metric("converted").too_little_data
    assert any("Too little data" in w for w in res.warnings)
    big = analyze_frame(_frame(6000, seed=1), "variant", "control", ["clicked"])
    assert not big.too_little_data


def test_detects_a_real_lift_and_not_a_null_one() -> None:
    res = analyze_frame(_frame(30000, seed=2, lift=0.03), "variant", "control", ["converted"])
    a = res.metric("converted").variant("A")
    b = res.metric("converted").variant("B")
    assert a.p_value_adjusted is not None and a.p_value_adjusted < 0.001
    assert a.prob_beats_control is not None and a.prob_beats_control > 0.999
    assert a.abs_lift_ci is not None and a.abs_lift_ci[0] < 0.03 < a.abs_lift_ci[1]
    assert b.p_value is not None and b.p_value > 0.001
    assert a.always_valid_p_value is not None and a.always_valid_p_value < 0.05


def test_cuped_reduces_the_interval_with_a_covariate() -> None:
    df = _frame(6000, seed=3)
    plain = analyze_frame(df, "variant", "control", ["revenue"]).metric("revenue").variant("A")
    cuped_m = analyze_frame(df, "variant", "control", ["revenue"], covariate="pre").metric(
        "revenue"
    )
    cuped = cuped_m.variant("A")
    assert cuped_m.cuped and cuped.test == "CUPED z-test"
    width = lambda v: v.abs_lift_ci[1] - v.abs_lift_ci[0]  # noqa: E731
    assert width(cuped) < width(plain)


def test_roi_and_its_plain_language() -> None:
    df = _frame(30000, seed=4)
    res = analyze_frame(
        df,
        "variant",
        "control",
        ["converted"],
        revenue_col="revenue",
        cost_col="cost",
        duration_days=14,
    )
    a = next(r for r in res.roi if r.variant == "A")
    n_a = int((df["variant"] == "A").sum())
    assert a.cost == pytest.approx(0.05 * n_a)
    assert a.cost is not None
    assert a.incremental_revenue is not None and a.roi is not None and a.roi_ci is not None
    assert a.roi == pytest.approx((a.incremental_revenue - a.cost) / a.cost)
    assert a.roi_ci[0] < a.roi < a.roi_ci[1]
    assert a.payback_days == pytest.approx(14 * a.cost / a.incremental_revenue)
    text = describe_roi(a, unit_noun="visitors", conversion_noun="sign-ups")
    assert text.startswith("A brought ") and "extra sign-ups per 100 visitors (95% CI" in text
    assert "paid for itself in about" in text


def test_power_matches_statsmodels_for_continuous_and_equal_variance_rates() -> None:
    res = sample_size(10.0, 0.5, sd=4.0, power=0.9)
    ref = NormalIndPower().solve_power(effect_size=0.5 / 4.0, alpha=0.05, power=0.9, ratio=1.0)
    assert res.n_control == int(np.ceil(ref)) or abs(res.n_control - ref) < 1.01
    mde = minimum_detectable_effect(10.0, 2000, sd=4.0, ratio=2.0)
    es = NormalIndPower().solve_power(nobs1=2000, alpha=0.05, power=0.8, ratio=2.0)
    assert mde.mde_abs == pytest.approx(es * 4.0, rel=1e-3)
    rate = sample_size(0.1, 0.02)
    pooled_sd = np.sqrt((0.1 * 0.9 + 0.12 * 0.88) / 2)
    ref_rate = NormalIndPower().solve_power(effect_size=0.02 / pooled_sd, alpha=0.05, power=0.8)
    assert abs(rate.n_control - ref_rate) < 1.01
    back = minimum_detectable_effect(0.1, rate.n_control)
    assert back.mde_abs == pytest.approx(0.02, rel=1e-3)
    with pytest.raises(AnalysisInputError, match="baseline must be in"):
        sample_size(5.0, 0.1)


def test_plot_lifts_writes_a_png(tmp_path: Path) -> None:
    res = analyze_frame(_frame(), "variant", "control", ["converted", "revenue"])
    out = plot_lifts(res, tmp_path / "charts" / "lifts.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.stat().st_size > 5000


def _workspace(df: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(DDL)
    con.execute(
        "INSERT INTO experiments VALUES ('exp1', 'Spring promo', NULL, 'control', 'converted, clicked', "
        "?, ?, NULL)",
        [datetime(2024, 3, 1), datetime(2024, 3, 15)],
    )
    units = pd.DataFrame(
        {
            "experiment_id": "exp1",
            "unit_id": [f"u{i}" for i in range(len(df))],
            "variant": df["variant"],
            "clicked": df["clicked"].astype(float),
            "converted": (df["converted"] == "TRUE").astype(float),
            "revenue": df["revenue"],
            "pre_period": df["pre"],
            "cost": df["cost"],
        }
    )
    con.register("units_view", units)
    con.execute("INSERT INTO experiment_units SELECT * FROM units_view")
    return con


def test_workspace_experiment_matches_the_frame_analysis() -> None:
    df = _frame(4000, seed=5)
    con = _workspace(df)
    res = analyze_workspace_experiment(con, "exp1")
    assert res.experiment_id == "exp1"
    assert [m.name for m in res.metrics] == ["converted", "clicked", "revenue"]
    assert all(m.cuped for m in res.metrics)
    ref = analyze_frame(
        df.assign(converted=(df["converted"] == "TRUE").astype(float)),
        "variant",
        "control",
        ["converted", "clicked"],
        covariate="pre",
        revenue_col="revenue",
        cost_col="cost",
        conversion_metric="converted",
        duration_days=14,
    )
    for m in ("converted", "clicked", "revenue"):
        got, want = res.metric(m).variant("A"), ref.metric(m).variant("A")
        assert got.abs_lift == pytest.approx(want.abs_lift, rel=1e-9)
        assert got.p_value == pytest.approx(want.p_value, rel=1e-6)
    roi_a = next(r for r in res.roi if r.variant == "A")
    ref_a = next(r for r in ref.roi if r.variant == "A")
    assert roi_a.roi == pytest.approx(ref_a.roi, rel=1e-9)
    assert roi_a.payback_days == pytest.approx(ref_a.payback_days, rel=1e-9)


def test_workspace_errors_name_the_problem() -> None:
    con = _workspace(_frame(200))
    with pytest.raises(AnalysisInputError, match="experiment 'nope' is not in the workspace"):
        analyze_workspace_experiment(con, "nope")
    con.execute(
        "INSERT INTO experiments VALUES ('bad', 'x', NULL, 'control', 'opens', NULL, NULL, NULL)"
    )
    with pytest.raises(AnalysisInputError, match="names metric 'opens'"):
        analyze_workspace_experiment(con, "bad")
    con.execute(
        "INSERT INTO experiments VALUES ('empty', 'x', NULL, 'control', 'clicked', NULL, NULL, NULL)"
    )
    with pytest.raises(AnalysisInputError, match="has no rows in experiment_units"):
        analyze_workspace_experiment(con, "empty")
