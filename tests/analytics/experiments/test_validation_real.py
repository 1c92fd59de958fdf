"""Every statistic checked against an independent implementation on real experiments.

Hillstrom (64,000 customers, two e-mails vs none): visit, conversion and spend, overall
and per customer segment; Artea (5,000 customers, coupon vs none). References are
scipy and statsmodels, Monte Carlo for the Bayesian integrals and a bootstrap for the
delta-method relative-lift interval.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from analytics.experiments import (
    analyze_frame,
    describe_roi,
    load_artea,
    load_hillstrom,
    stats_from_duckdb,
    stats_from_frame,
)

pytestmark = pytest.mark.shared_data

CONTROL = "No E-Mail"
EMAILS = ("Mens E-Mail", "Womens E-Mail")


@pytest.fixture(scope="module")
def hillstrom(shared_data_dir: Path) -> pd.DataFrame:
    return load_hillstrom(shared_data_dir)


@pytest.fixture(scope="module")
def artea(shared_data_dir: Path) -> pd.DataFrame:
    ab, _ = load_artea(shared_data_dir)
    ab = ab.copy()
    ab["arm"] = np.where(ab["test_coupon"] == 1, "coupon", "control")
    ab["purchased"] = (ab["trans_after"] > 0).astype(int)
    return ab


def _check_binary(df: pd.DataFrame, arm_col: str, control: str, treated: str, metric: str) -> None:
    res = analyze_frame(df, arm_col, control, [metric], min_units=1, min_conversions=1)
    v = res.metric(metric).variant(treated)
    t = df.loc[df[arm_col] == treated, metric]
    c = df.loc[df[arm_col] == control, metric]
    count, nobs = np.array([t.sum(), c.sum()]), np.array([len(t), len(c)])
    _, p_ref = proportions_ztest(count, nobs)
    lo, hi = confint_proportions_2indep(count[0], nobs[0], count[1], nobs[1], method="wald")
    assert res.metric(metric).kind == "binary"
    assert v.abs_lift == pytest.approx(t.mean() - c.mean(), rel=1e-12)
    assert v.p_value == pytest.approx(p_ref, rel=1e-6)
    assert v.abs_lift_ci == pytest.approx((lo, hi), rel=1e-6)


def _check_welch(df: pd.DataFrame, arm_col: str, control: str, treated: str, metric: str) -> None:
    res = analyze_frame(df, arm_col, control, [metric], min_units=1)
    v = res.metric(metric).variant(treated)
    t = df.loc[df[arm_col] == treated, metric].to_numpy(float)
    c = df.loc[df[arm_col] == control, metric].to_numpy(float)
    ref = stats.ttest_ind(t, c, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert res.metric(metric).kind == "continuous"
    assert v.p_value == pytest.approx(ref.pvalue, rel=1e-6)
    assert v.abs_lift_ci == pytest.approx((ci.low, ci.high), rel=1e-6)


@pytest.mark.parametrize("treated", EMAILS)
@pytest.mark.parametrize("metric", ["visit", "conversion"])
def test_hillstrom_proportions_match_statsmodels(
    hillstrom: pd.DataFrame, treated: str, metric: str
) -> None:
    _check_binary(hillstrom, "segment", CONTROL, treated, metric)


@pytest.mark.parametrize("treated", EMAILS)
def test_hillstrom_spend_matches_scipy_welch(hillstrom: pd.DataFrame, treated: str) -> None:
    _check_welch(hillstrom, "segment", CONTROL, treated, "spend")


@pytest.mark.parametrize("part", ["Rural", "Surburban", "Urban"])
def test_hillstrom_per_customer_segment(hillstrom: pd.DataFrame, part: str) -> None:
    sub = hillstrom[hillstrom["zip_code"] == part]
    for treated in EMAILS:
        _check_binary(sub, "segment", CONTROL, treated, "visit")
        _check_binary(sub, "segment", CONTROL, treated, "conversion")
        _check_welch(sub, "segment", CONTROL, treated, "spend")


def test_artea_matches_statsmodels_and_scipy(artea: pd.DataFrame) -> None:
    _check_binary(artea, "arm", "control", "coupon", "purchased")
    _check_welch(artea, "arm", "control", "coupon", "revenue_after")
    _check_welch(artea, "arm", "control", "coupon", "trans_after")


def test_srm_and_holm_match_scipy_and_statsmodels(hillstrom: pd.DataFrame) -> None:
    res = analyze_frame(hillstrom, "segment", CONTROL, ["visit", "conversion", "spend"])
    counts = hillstrom["segment"].value_counts().sort_index()
    ref = stats.chisquare(counts.to_numpy())
    assert res.srm.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert not res.srm.warning
    raw = [v.p_value for m in res.metrics for v in m.variants if not v.is_control]
    adj = [v.p_value_adjusted for m in res.metrics for v in m.variants if not v.is_control]
    assert adj == pytest.approx(list(multipletests(raw, method="holm")[1]), rel=1e-9)
    # Dropping half of one arm's units breaks the split, and the check says so loudly.
    broken = hillstrom.drop(hillstrom.index[hillstrom["segment"] == "Mens E-Mail"][::2])
    bad = analyze_frame(broken, "segment", CONTROL, ["visit"])
    assert bad.srm.warning and bad.srm.message and "SAMPLE RATIO MISMATCH" in bad.srm.message
    assert bad.warnings[0] == bad.srm.message


def test_relative_lift_interval_matches_bootstrap(hillstrom: pd.DataFrame) -> None:
    rng = np.random.default_rng(0)
    res = analyze_frame(hillstrom, "segment", CONTROL, ["visit", "spend"])
    for metric in ("visit", "spend"):
        v = res.metric(metric).variant("Mens E-Mail")
        t = hillstrom.loc[hillstrom["segment"] == "Mens E-Mail", metric].to_numpy(float)
        c = hillstrom.loc[hillstrom["segment"] == CONTROL, metric].to_numpy(float)
        reps = 2000
        bt = np.array([t[rng.integers(0, len(t), len(t))].mean() for _ in range(reps)])
        bc = np.array([c[rng.integers(0, len(c), len(c))].mean() for _ in range(reps)])
        boot = bt / bc - 1
        assert v.rel_lift is not None and v.rel_lift_ci is not None
        assert v.rel_lift == pytest.approx(t.mean() / c.mean() - 1, rel=1e-12)
        # Delta-method SE within 10 % of the bootstrap SE.
        se = (v.rel_lift_ci[1] - v.rel_lift_ci[0]) / (2 * stats.norm.ppf(0.975))
        assert se == pytest.approx(boot.std(ddof=1), rel=0.10)


def test_bayesian_quantities_match_monte_carlo(
    hillstrom: pd.DataFrame, artea: pd.DataFrame
) -> None:
    rng = np.random.default_rng(1)
    draws = 400_000
    res = analyze_frame(hillstrom, "segment", CONTROL, ["conversion"])
    sub = artea
    res_a = analyze_frame(sub, "arm", "control", ["purchased"])
    cases = [
        (
            res.metric("conversion").variant("Womens E-Mail"),
            hillstrom,
            "segment",
            CONTROL,
            "Womens E-Mail",
            "conversion",
        ),
        (
            res_a.metric("purchased").variant("coupon"),
            artea,
            "arm",
            "control",
            "coupon",
            "purchased",
        ),
    ]
    for v, df, col, control, treated, metric in cases:
        t = df.loc[df[col] == treated, metric]
        c = df.loc[df[col] == control, metric]
        pt = stats.beta.rvs(1 + t.sum(), 1 + len(t) - t.sum(), size=draws, random_state=rng)
        pc = stats.beta.rvs(1 + c.sum(), 1 + len(c) - c.sum(), size=draws, random_state=rng)
        prob = np.mean(pt > pc)
        loss = np.mean(np.maximum(pc - pt, 0))
        assert v.prob_beats_control == pytest.approx(
            prob, abs=4 * np.sqrt(prob * (1 - prob) / draws) + 1e-6
        )
        loss_se = np.maximum(pc - pt, 0).std() / np.sqrt(draws)
        assert v.expected_loss == pytest.approx(loss, abs=4 * loss_se + 1e-9)


def test_normal_posterior_matches_monte_carlo(artea: pd.DataFrame) -> None:
    rng = np.random.default_rng(2)
    v = (
        analyze_frame(artea, "arm", "control", ["revenue_after"])
        .metric("revenue_after")
        .variant("coupon")
    )
    assert v.abs_lift_ci is not None and v.abs_lift is not None
    se = (v.abs_lift_ci[1] - v.abs_lift) / stats.t.ppf(0.975, 4000)  # Welch df here is ~5,000
    d = rng.normal(v.abs_lift, se, 1_000_000)
    assert v.prob_beats_control == pytest.approx(np.mean(d > 0), abs=0.003)
    assert v.expected_loss == pytest.approx(np.mean(np.maximum(-d, 0)), rel=0.02)


def test_cuped_matches_ancova_ols(hillstrom: pd.DataFrame) -> None:
    res = analyze_frame(hillstrom, "segment", CONTROL, ["spend", "visit"], covariate="history")
    df = hillstrom.assign(arm=pd.Categorical(hillstrom["segment"], [CONTROL, *EMAILS]))
    for metric in ("spend", "visit"):
        fit = smf.ols(f"{metric} ~ C(arm) + history", data=df).fit(cov_type="HC0")
        m = res.metric(metric)
        assert m.cuped and m.variance_reduction is not None and m.variance_reduction > 0
        for treated in EMAILS:
            name = f"C(arm)[T.{treated}]"
            v = m.variant(treated)
            assert v.abs_lift == pytest.approx(fit.params[name], rel=1e-9)
            se = (v.abs_lift_ci[1] - v.abs_lift_ci[0]) / (2 * stats.norm.ppf(0.975))  # type: ignore[index]
            assert se == pytest.approx(fit.bse[name], rel=0.02)


def test_duckdb_statistics_equal_pandas(hillstrom: pd.DataFrame) -> None:
    con = duckdb.connect()
    con.register("hill_view", hillstrom)
    con.execute("CREATE TABLE hill AS SELECT * FROM hill_view")
    from_db, units_db = stats_from_duckdb(con, "hill", "segment", ["visit", "spend"], "history")
    from_pd, units_pd = stats_from_frame(hillstrom, "segment", ["visit", "spend"], "history")
    assert units_db == units_pd
    for a, b in zip(from_db, from_pd, strict=True):
        assert a.binary == b.binary
        for variant, arm in a.arms.items():
            other = b.arms[variant]
            assert arm.n == other.n
            for field in ("sum", "sum_sq", "sum_x", "sum_x_sq", "sum_xy"):
                assert getattr(arm, field) == pytest.approx(getattr(other, field), rel=1e-9)


def test_hillstrom_roi_sentence(hillstrom: pd.DataFrame) -> None:
    res = analyze_frame(
        hillstrom,
        "segment",
        CONTROL,
        ["conversion"],
        revenue_col="spend",
        cost_per_unit=0.10,
        conversion_metric="conversion",
    )
    mens = next(r for r in res.roi if r.variant == "Mens E-Mail")
    assert mens.incremental_conversions_per_unit == pytest.approx(0.0068, abs=5e-5)
    assert mens.cost == pytest.approx(0.10 * 21307)
    text = describe_roi(mens, label="E-mails to men", conversion_noun="purchases")
    assert text.startswith(
        "E-mails to men brought 0.68 extra purchases per 100 customers (95% CI 0.50 to 0.86)"
    )
    assert "worth $0.77 per customer" in text
