"""CUPED, classic intervals, power and sequential inference on simulated experiments.

Every simulation is vectorised with numpy (thousands of experiments at once) and runs
through the same array code the analysis uses; a few simulated experiments are also
pushed through :func:`analyze_stats` to check it agrees with the vectorised path.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from analytics.experiments import (
    ArmStats,
    MetricStats,
    _core,
    analyze_stats,
    power_of_test,
    sample_size,
)

N_SIMS = 2000
NOMINAL = 0.95


def _cuped_sims(
    rng: np.random.Generator, n: int = 400, effect: float = 0.1
) -> dict[str, np.ndarray]:
    """Simulate N_SIMS two-arm experiments where y depends strongly on a pre-period x."""
    x_c = rng.normal(0.0, 1.0, (N_SIMS, n))
    x_t = rng.normal(0.0, 1.0, (N_SIMS, n))
    y_c = 1.0 + 0.8 * x_c + rng.normal(0.0, 0.6, (N_SIMS, n))
    y_t = 1.0 + effect + 0.8 * x_t + rng.normal(0.0, 0.6, (N_SIMS, n))
    out = {}
    for arm, x, y in (("c", x_c, y_c), ("t", x_t, y_t)):
        out[f"sum_{arm}"] = y.sum(1)
        out[f"sum_sq_{arm}"] = (y * y).sum(1)
        out[f"sum_x_{arm}"] = x.sum(1)
        out[f"sum_x_sq_{arm}"] = (x * x).sum(1)
        out[f"sum_xy_{arm}"] = (x * y).sum(1)
    out["n"] = np.full(N_SIMS, float(n))
    return out


def _moments(s: dict[str, np.ndarray], arm: str) -> tuple[np.ndarray, ...]:
    n = s["n"]
    mean = s[f"sum_{arm}"] / n
    var = (s[f"sum_sq_{arm}"] - s[f"sum_{arm}"] ** 2 / n) / (n - 1)
    mean_x = s[f"sum_x_{arm}"] / n
    var_x = (s[f"sum_x_sq_{arm}"] - s[f"sum_x_{arm}"] ** 2 / n) / (n - 1)
    cov = (s[f"sum_xy_{arm}"] - s[f"sum_x_{arm}"] * s[f"sum_{arm}"] / n) / (n - 1)
    return mean, var, mean_x, var_x, cov


def test_cuped_interval_coverage_is_nominal_and_narrower_than_welch() -> None:
    rng = np.random.default_rng(20240601)
    effect = 0.1
    s = _cuped_sims(rng, effect=effect)
    n = s["n"]
    m_c, v_c, mx_c, vx_c, cov_c = _moments(s, "c")
    m_t, v_t, mx_t, vx_t, cov_t = _moments(s, "t")
    theta = _core.cuped_theta(
        np.stack([n, n]), np.stack([cov_c, cov_t]), np.stack([vx_c, vx_t]), axis=0
    )
    grand_x = (s["sum_x_c"] + s["sum_x_t"]) / (2 * n)
    am_c, av_c = _core.cuped_adjust(m_c, v_c, mx_c, vx_c, cov_c, theta, grand_x)
    am_t, av_t = _core.cuped_adjust(m_t, v_t, mx_t, vx_t, cov_t, theta, grand_x)
    diff, lo, hi, _p = _core.normal_diff_test(am_t, av_t, n, am_c, av_c, n)
    coverage = np.mean((lo <= effect) & (effect <= hi))
    assert abs(coverage - NOMINAL) <= 0.02, f"CUPED coverage {coverage:.3f}"
    # Unbiased, and much narrower than the unadjusted Welch interval (x explains ~64 % of var).
    assert abs(diff.mean() - effect) < 0.005
    _, wlo, whi, _ = _core.welch_ttest(m_t, v_t, n, m_c, v_c, n)
    welch_cov = np.mean((wlo <= effect) & (effect <= whi))
    assert abs(welch_cov - NOMINAL) <= 0.02, f"Welch coverage {welch_cov:.3f}"
    assert np.median((hi - lo) / (whi - wlo)) < 0.65

    # analyze_stats gives the same CUPED interval as the vectorised path.
    for i in range(3):
        arms = {
            arm_name: ArmStats(
                n=int(n[i]),
                sum=s[f"sum_{a}"][i],
                sum_sq=s[f"sum_sq_{a}"][i],
                sum_x=s[f"sum_x_{a}"][i],
                sum_x_sq=s[f"sum_x_sq_{a}"][i],
                sum_xy=s[f"sum_xy_{a}"][i],
                has_covariate=True,
            )
            for arm_name, a in (("control", "c"), ("treatment", "t"))
        }
        res = analyze_stats([MetricStats("y", False, arms)], "control")
        v = res.metric("y").variant("treatment")
        assert res.metric("y").cuped
        assert v.abs_lift_ci == pytest.approx((lo[i], hi[i]), rel=1e-9)


def test_null_cuped_p_values_are_uniform() -> None:
    rng = np.random.default_rng(7)
    s = _cuped_sims(rng, effect=0.0)
    n = s["n"]
    m_c, v_c, mx_c, vx_c, cov_c = _moments(s, "c")
    m_t, v_t, mx_t, vx_t, cov_t = _moments(s, "t")
    theta = _core.cuped_theta(
        np.stack([n, n]), np.stack([cov_c, cov_t]), np.stack([vx_c, vx_t]), axis=0
    )
    grand_x = (s["sum_x_c"] + s["sum_x_t"]) / (2 * n)
    am_c, av_c = _core.cuped_adjust(m_c, v_c, mx_c, vx_c, cov_c, theta, grand_x)
    am_t, av_t = _core.cuped_adjust(m_t, v_t, mx_t, vx_t, cov_t, theta, grand_x)
    *_, p = _core.normal_diff_test(am_t, av_t, n, am_c, av_c, n)
    assert abs(np.mean(p < 0.05) - 0.05) <= 0.02
    assert stats.kstest(p, "uniform").pvalue > 0.001


def test_relative_lift_and_proportion_intervals_cover() -> None:
    rng = np.random.default_rng(11)
    n, p_c, p_t = 5000, 0.10, 0.12
    x_c = rng.binomial(n, p_c, N_SIMS)
    x_t = rng.binomial(n, p_t, N_SIMS)
    _, lo, hi, _ = _core.two_proportion_ztest(x_t, n, x_c, n)
    assert abs(np.mean((lo <= p_t - p_c) & (p_t - p_c <= hi)) - NOMINAL) <= 0.02
    pc, pt = x_c / n, x_t / n
    _, rlo, rhi = _core.relative_lift_delta(pt, pt * (1 - pt), n, pc, pc * (1 - pc), n)
    true_rel = p_t / p_c - 1
    assert abs(np.mean((rlo <= true_rel) & (true_rel <= rhi)) - NOMINAL) <= 0.02


def _peeking_sims(rng: np.random.Generator, effect: float, n_max: int = 1500, burn_in: int = 20):
    y_c = rng.binomial(1, 0.10, (N_SIMS, n_max)).astype(float)
    y_t = rng.binomial(1, 0.10 + effect, (N_SIMS, n_max)).astype(float)
    k = np.arange(1, n_max + 1, dtype=float)
    p_c = np.cumsum(y_c, 1) / k
    p_t = np.cumsum(y_t, 1) / k
    v_c, v_t = p_c * (1 - p_c), p_t * (1 - p_t)
    diff = (p_t - p_c)[:, burn_in:]
    var_diff = ((v_t + v_c) / k)[:, burn_in:]
    # Same plug-in mixing variance as the analysis default: (0.1 control SD)².
    tau2 = 0.01 * np.maximum(v_c[:, burn_in:], 1e-12)
    return diff, var_diff, tau2


def test_msprt_false_positive_rate_under_continuous_peeking_is_at_most_alpha() -> None:
    rng = np.random.default_rng(3)
    diff, var_diff, tau2 = _peeking_sims(rng, effect=0.0)
    p_path = _core.always_valid_p_values(diff, var_diff, tau2)
    fpr = np.mean(p_path[:, -1] < 0.05)
    assert fpr <= 0.05, f"mSPRT false-positive rate with peeking {fpr:.3f}"
    # The same data tested naively with a fixed-horizon z-test at every look fails badly,
    # which is what the always-valid p-value protects against.
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.abs(diff) / np.sqrt(var_diff)
    naive = np.mean(np.any(z > stats.norm.ppf(0.975), axis=1))
    assert naive > 0.15, f"naive peeking false-positive rate {naive:.3f}"


def test_msprt_confidence_sequence_covers_uniformly_over_time() -> None:
    rng = np.random.default_rng(5)
    effect = 0.04
    diff, var_diff, tau2 = _peeking_sims(rng, effect=effect)
    lo, hi = _core.msprt_confidence_sequence(diff, var_diff, tau2)
    ok = np.where(np.isfinite(lo), (lo <= effect) & (effect <= hi), True)
    uniform_coverage = np.mean(ok.all(axis=1))
    assert uniform_coverage >= NOMINAL - 0.02, f"time-uniform coverage {uniform_coverage:.3f}"
    # And it does detect a real effect: most simulated tests reject by the end.
    p_path = _core.always_valid_p_values(diff, var_diff, tau2)
    assert np.mean(p_path[:, -1] < 0.05) > 0.5


def test_msprt_closed_form_matches_numerical_mixture() -> None:
    d, s2, tau2 = 0.013, 0.004**2, 0.01**2
    num, _ = integrate.quad(
        lambda th: stats.norm.pdf(d, th, math.sqrt(s2)) * stats.norm.pdf(th, 0, math.sqrt(tau2)),
        -0.2,
        0.2,
        points=[0.0, d],
        limit=200,
    )
    lr = num / stats.norm.pdf(d, 0, math.sqrt(s2))
    assert math.exp(_core.as_float(_core.msprt_log_lr(d, s2, tau2))) == pytest.approx(lr, rel=1e-6)


def test_sample_size_gives_nominal_power_in_simulation() -> None:
    rng = np.random.default_rng(17)
    plan = sample_size(0.05, 0.2, relative=True, power=0.8)
    x_c = rng.binomial(plan.n_control, 0.05, N_SIMS)
    x_t = rng.binomial(plan.n_treatment, 0.06, N_SIMS)
    *_, p = _core.two_proportion_ztest(x_t, plan.n_treatment, x_c, plan.n_control)
    assert abs(np.mean(p < 0.05) - 0.8) <= 0.03
    assert power_of_test(0.05, 0.01, plan.n_control) == pytest.approx(0.8, abs=0.002)
