"""Array-level statistics behind the experiment analysis.

Every function here works on numpy arrays (or scalars) that broadcast, so the same
code serves one experiment, a table of variants × metrics and tens of thousands of
simulated experiments in the tests. Inputs are sufficient statistics: counts, means
and variances per arm, never unit-level rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

FloatArray = NDArray[np.float64]


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def z_quantile(alpha: float) -> float:
    """Two-sided normal critical value ``z_{1-alpha/2}``."""
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def _p_from_z(z: FloatArray) -> FloatArray:
    return _f(2.0 * stats.norm.sf(np.abs(z)))


def _safe_div(num: FloatArray, den: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return _f(np.where(den != 0, num / np.where(den != 0, den, 1.0), np.nan))


def _normal_interval(
    estimate: FloatArray, se: FloatArray, alpha: float
) -> tuple[FloatArray, FloatArray]:
    """Wald interval ``estimate ± z_{1-alpha/2}·se`` as ``(low, high)``."""
    half = z_quantile(alpha) * se
    return estimate - half, estimate + half


def _degenerate_p(diff: FloatArray) -> FloatArray:
    """p-value when the standard error is exactly zero: 1 for no difference, else 0."""
    return _f(np.where(diff == 0, 1.0, 0.0))


def two_proportion_ztest(
    x_t: ArrayLike, n_t: ArrayLike, x_c: ArrayLike, n_c: ArrayLike, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Two-proportion z-test (pooled SE for the p-value, unpooled Wald SE for the interval).

    Args:
        x_t: Successes in the treatment arm, shape ``(...)``.
        n_t: Units in the treatment arm.
        x_c: Successes in the control arm.
        n_c: Units in the control arm.
        alpha: 1 − confidence level of the interval.

    Returns:
        ``(diff, low, high, p_value)``: the difference of proportions ``p_t − p_c``,
        its Wald interval and the two-sided p-value.
    """
    x_t, n_t, x_c, n_c = _f(x_t), _f(n_t), _f(x_c), _f(n_c)
    p_t, p_c = x_t / n_t, x_c / n_c
    diff = p_t - p_c
    pooled = (x_t + x_c) / (n_t + n_c)
    se_pooled = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n_t + 1.0 / n_c))
    z = _safe_div(diff, se_pooled)
    p_value = np.where(se_pooled > 0, _p_from_z(z), _degenerate_p(diff))
    se = np.sqrt(p_t * (1.0 - p_t) / n_t + p_c * (1.0 - p_c) / n_c)
    low, high = _normal_interval(diff, se, alpha)
    return diff, low, high, _f(p_value)


def welch_ttest(
    mean_t: ArrayLike,
    var_t: ArrayLike,
    n_t: ArrayLike,
    mean_c: ArrayLike,
    var_c: ArrayLike,
    n_c: ArrayLike,
    alpha: float = 0.05,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Welch's unequal-variance t-test from per-arm means and sample variances (ddof=1).

    Returns:
        ``(diff, low, high, p_value)`` with the Welch–Satterthwaite degrees of freedom
        used for both the interval and the p-value.
    """
    mean_t, var_t, n_t = _f(mean_t), _f(var_t), _f(n_t)
    mean_c, var_c, n_c = _f(mean_c), _f(var_c), _f(n_c)
    diff = mean_t - mean_c
    a, b = var_t / n_t, var_c / n_c
    se = np.sqrt(a + b)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = (a + b) ** 2 / (a**2 / (n_t - 1.0) + b**2 / (n_c - 1.0))
    dof = np.where(np.isfinite(dof) & (dof > 0), dof, 1.0)
    t = _safe_div(diff, se)
    p_value = np.where(se > 0, 2.0 * stats.t.sf(np.abs(t), dof), _degenerate_p(diff))
    half = stats.t.ppf(1.0 - alpha / 2.0, dof) * se
    return diff, _f(diff - half), _f(diff + half), _f(p_value)


def normal_diff_test(
    mean_t: ArrayLike,
    var_t: ArrayLike,
    n_t: ArrayLike,
    mean_c: ArrayLike,
    var_c: ArrayLike,
    n_c: ArrayLike,
    alpha: float = 0.05,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Large-sample z-test of a difference in means (used for CUPED-adjusted means)."""
    mean_t, var_t, n_t = _f(mean_t), _f(var_t), _f(n_t)
    mean_c, var_c, n_c = _f(mean_c), _f(var_c), _f(n_c)
    diff = mean_t - mean_c
    se = np.sqrt(var_t / n_t + var_c / n_c)
    p_value = np.where(se > 0, _p_from_z(_safe_div(diff, se)), _degenerate_p(diff))
    low, high = _normal_interval(diff, se, alpha)
    return diff, low, high, _f(p_value)


def relative_lift_delta(
    mean_t: ArrayLike,
    var_t: ArrayLike,
    n_t: ArrayLike,
    mean_c: ArrayLike,
    var_c: ArrayLike,
    n_c: ArrayLike,
    alpha: float = 0.05,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Relative lift ``mean_t / mean_c − 1`` with a delta-method normal interval.

    ``Var(m_t / m_c) ≈ v_t / (n_t m_c²) + m_t² v_c / (n_c m_c⁴)`` for independent arms.
    NaN where the control mean is zero (the relative lift is undefined there).

    Returns:
        ``(rel_lift, low, high)``.
    """
    mean_t, var_t, n_t = _f(mean_t), _f(var_t), _f(n_t)
    mean_c, var_c, n_c = _f(mean_c), _f(var_c), _f(n_c)
    ratio = _safe_div(mean_t, mean_c)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_ratio = var_t / (n_t * mean_c**2) + mean_t**2 * var_c / (n_c * mean_c**4)
    se = np.sqrt(np.where(mean_c != 0, var_ratio, np.nan))
    rel_lift = ratio - 1.0
    low, high = _normal_interval(rel_lift, se, alpha)
    return rel_lift, low, high


def beta_binomial_posterior(
    x_t: float, n_t: float, x_c: float, n_c: float, prior: tuple[float, float] = (1.0, 1.0)
) -> tuple[float, float]:
    """Probability that treatment beats control, and the expected loss of choosing it.

    Posteriors ``Beta(a + x, b + n − x)`` per arm. Both quantities are one-dimensional
    integrals over the control posterior with closed-form inner parts::

        P(p_t > p_c) = ∫ f_c(c) (1 − I_c(a_t, b_t)) dc
        E[max(p_c − p_t, 0)] = ∫ f_c(c) (c I_c(a_t, b_t) − m_t I_c(a_t + 1, b_t)) dc

    where ``I`` is the regularised incomplete beta function and ``m_t`` the treatment
    posterior mean. The integral runs on a fine grid spanning ±12 posterior standard
    deviations of the control arm, so it stays accurate for tens of millions of units.

    Returns:
        ``(prob_beats_control, expected_loss)``; the loss is in absolute proportion units.
    """
    a_t, b_t = prior[0] + x_t, prior[1] + n_t - x_t
    a_c, b_c = prior[0] + x_c, prior[1] + n_c - x_c
    mean_c = a_c / (a_c + b_c)
    sd_c = float(np.sqrt(a_c * b_c / ((a_c + b_c) ** 2 * (a_c + b_c + 1.0))))
    lo, hi = max(0.0, mean_c - 12.0 * sd_c), min(1.0, mean_c + 12.0 * sd_c)
    grid = np.linspace(lo, hi, 8001)
    dens = stats.beta.pdf(grid, a_c, b_c)
    dens = np.where(np.isfinite(dens), dens, 0.0)
    norm = np.trapezoid(dens, grid)
    cdf_t = special.betainc(a_t, b_t, grid)
    prob = float(np.trapezoid(dens * (1.0 - cdf_t), grid) / norm)
    mean_t = a_t / (a_t + b_t)
    inner = grid * cdf_t - mean_t * special.betainc(a_t + 1.0, b_t, grid)
    loss = float(np.trapezoid(dens * inner, grid) / norm)
    return min(max(prob, 0.0), 1.0), max(loss, 0.0)


def normal_posterior(diff: ArrayLike, se: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Flat-prior normal posterior of a difference in means ``D ~ N(diff, se²)``.

    Returns:
        ``(P(D > 0), E[max(−D, 0)])``: probability to beat control and the expected
        loss of choosing the treatment, in metric units.
    """
    diff, se = _f(diff), _f(se)
    z = _safe_div(diff, se)
    prob = np.where(
        se > 0, stats.norm.cdf(z), np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, 0.5))
    )
    loss = np.where(
        se > 0, se * stats.norm.pdf(z) - diff * stats.norm.cdf(-z), np.maximum(-diff, 0.0)
    )
    return _f(prob), _f(loss)


def srm_chisquare(
    observed: ArrayLike, expected_share: ArrayLike | None = None
) -> tuple[float, float, int]:
    """Pearson chi-square goodness of fit of unit counts against the planned split.

    Args:
        observed: Units per variant, shape ``(n_variants,)``.
        expected_share: Planned share per variant (any positive weights; normalised);
            equal split when None.

    Returns:
        ``(chi2, p_value, dof)``.
    """
    obs = _f(observed)
    share = np.full(obs.shape, 1.0 / obs.size) if expected_share is None else _f(expected_share)
    share = share / share.sum()
    expected = share * obs.sum()
    chi2 = float(np.sum((obs - expected) ** 2 / expected))
    dof = obs.size - 1
    return chi2, float(stats.chi2.sf(chi2, dof)), dof


def holm_adjust(p_values: ArrayLike) -> FloatArray:
    """Holm step-down adjusted p-values; NaN entries are left out and stay NaN."""
    p = _f(p_values).ravel()
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def cuped_theta(
    n: ArrayLike, cov_xy: ArrayLike, var_x: ArrayLike, axis: int | None = None
) -> FloatArray:
    """Pooled within-arm CUPED slope ``θ = Σ (n−1) cov_xy / Σ (n−1) var_x``.

    This equals the covariate slope of the OLS fit ``y ~ C(arm) + x``, so the adjusted
    difference in means matches ANCOVA exactly.
    """
    w = _f(n) - 1.0
    num = np.sum(w * _f(cov_xy), axis=axis)
    den = np.sum(w * _f(var_x), axis=axis)
    return _safe_div(_f(num), _f(den))


def cuped_adjust(
    mean_y: ArrayLike,
    var_y: ArrayLike,
    mean_x: ArrayLike,
    var_x: ArrayLike,
    cov_xy: ArrayLike,
    theta: ArrayLike,
    grand_mean_x: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """CUPED-adjusted mean and variance of ``y − θ (x − x̄)`` per arm."""
    theta = _f(theta)
    mean = _f(mean_y) - theta * (_f(mean_x) - _f(grand_mean_x))
    var = _f(var_y) - 2.0 * theta * _f(cov_xy) + theta**2 * _f(var_x)
    return mean, _f(np.maximum(var, 0.0))


def msprt_log_lr(diff: ArrayLike, var_diff: ArrayLike, tau2: ArrayLike) -> FloatArray:
    """Log mixture likelihood ratio of the normal mSPRT (Johari et al., 2017).

    With the estimate ``d ~ N(θ, s²)`` and mixing ``θ ~ N(0, τ²)`` under the
    alternative, ``Λ = sqrt(s² / (s² + τ²)) exp(d² τ² / (2 s² (s² + τ²)))``.
    """
    d, s2, t2 = _f(diff), _f(var_diff), _f(tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 0.5 * np.log(s2 / (s2 + t2)) + d**2 * t2 / (2.0 * s2 * (s2 + t2))
    return _f(out)


def msprt_p_value(diff: ArrayLike, var_diff: ArrayLike, tau2: ArrayLike) -> FloatArray:
    """Always-valid p-value at one look, ``min(1, 1/Λ)``.

    Over a sequence of looks the always-valid p-value is the running minimum of these
    (see :func:`always_valid_p_values`).
    """
    log_lr = msprt_log_lr(diff, var_diff, tau2)
    return _f(np.where(np.isfinite(log_lr), np.minimum(1.0, np.exp(-log_lr)), 1.0))


def msprt_confidence_sequence(
    diff: ArrayLike, var_diff: ArrayLike, tau2: ArrayLike, alpha: float = 0.05
) -> tuple[FloatArray, FloatArray]:
    """Always-valid ``1 − alpha`` interval: all θ with ``Λ(θ) < 1/alpha``.

    Returns:
        ``(low, high)``; the interval covers the true difference at every look at once
        with probability at least ``1 − alpha``.
    """
    d, s2, t2 = _f(diff), _f(var_diff), _f(tau2)
    with np.errstate(divide="ignore", invalid="ignore"):
        radius = np.sqrt(s2 * (s2 + t2) / t2 * (2.0 * np.log(1.0 / alpha) + np.log((s2 + t2) / s2)))
    return d - radius, d + radius


def always_valid_p_values(diff: ArrayLike, var_diff: ArrayLike, tau2: ArrayLike) -> FloatArray:
    """Running always-valid p-values along the last axis (one entry per look)."""
    p = msprt_p_value(diff, var_diff, tau2)
    return _f(np.minimum.accumulate(p, axis=-1))


def as_float(value: Any) -> float:
    """A numpy scalar or 0-d array as a Python float."""
    return float(np.asarray(value))
