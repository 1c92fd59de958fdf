"""Power, minimum detectable effect and sample size for a two-arm test."""

from __future__ import annotations

import math

from scipy import optimize, stats

from analytics.exceptions import AnalysisInputError
from analytics.experiments._types import PowerResult


def _check(
    baseline: float, sd: float | None, alpha: float, power: float | None, ratio: float
) -> bool:
    if not 0.0 < alpha < 1.0:
        raise AnalysisInputError(f"alpha must be between 0 and 1 (got {alpha!r})")
    if power is not None and not 0.0 < power < 1.0:
        raise AnalysisInputError(f"power must be between 0 and 1 (got {power!r})")
    if ratio <= 0:
        raise AnalysisInputError(
            f"ratio (treatment/control units) must be positive (got {ratio!r})"
        )
    if sd is None:
        if not 0.0 < baseline < 1.0:
            raise AnalysisInputError(
                f"without sd the metric is taken as a rate, so baseline must be in (0, 1) "
                f"(got {baseline!r}); pass sd for a continuous metric"
            )
        return True
    if sd <= 0:
        raise AnalysisInputError(f"sd must be positive (got {sd!r})")
    return False


def _variances(baseline: float, delta: float, sd: float | None) -> tuple[float, float]:
    if sd is None:
        p2 = baseline + delta
        return baseline * (1 - baseline), p2 * (1 - p2)
    return sd**2, sd**2


def _power(
    delta: float, var_c: float, var_t: float, n_c: float, ratio: float, alpha: float
) -> float:
    se = math.sqrt(var_c / n_c + var_t / (n_c * ratio))
    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(delta) / se
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def sample_size(
    baseline: float,
    mde: float,
    *,
    relative: bool = False,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> PowerResult:
    """Units per arm needed to detect an effect with a two-sided z-test.

    ``n_c = (z_{1−α/2} + z_{power})² (σ_c² + σ_t² / ratio) / δ²`` and ``n_t = ratio · n_c``,
    with binomial variances ``p(1−p)`` for rates (when ``sd`` is None).

    Args:
        baseline: Control mean (a rate in (0, 1) when ``sd`` is None).
        mde: Effect to detect: absolute, or relative to ``baseline`` if ``relative``.
        relative: Whether ``mde`` is relative (0.1 = +10 %).
        sd: Per-unit standard deviation of a continuous metric; None for a rate.
        alpha: Two-sided significance level.
        power: Desired probability of detecting the effect.
        ratio: Treatment units per control unit.

    Returns:
        The sample size (rounded up) with the effect in absolute and relative terms.

    Raises:
        AnalysisInputError: Out-of-range inputs.
    """
    binary = _check(baseline, sd, alpha, power, ratio)
    delta = mde * baseline if relative else mde
    if delta == 0:
        raise AnalysisInputError("mde must be non-zero: a zero effect cannot be detected")
    if binary and not 0.0 < baseline + delta < 1.0:
        raise AnalysisInputError(
            f"baseline + effect must stay a rate in (0, 1) (got {baseline} + {delta})"
        )
    var_c, var_t = _variances(baseline, delta, sd)
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    n_c = math.ceil(z**2 * (var_c + var_t / ratio) / delta**2)
    return PowerResult(
        baseline=baseline,
        sd=math.sqrt(var_c),
        mde_abs=delta,
        mde_rel=delta / baseline if baseline else None,
        n_control=n_c,
        n_treatment=math.ceil(n_c * ratio),
        alpha=alpha,
        power=power,
        ratio=ratio,
        binary=binary,
    )


def minimum_detectable_effect(
    baseline: float,
    n_control: int,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    ratio: float = 1.0,
) -> PowerResult:
    """Smallest positive effect detectable with ``n_control`` (and ``ratio·n_control``) units.

    For rates the treatment variance depends on the effect, so the effect is solved for
    numerically.

    Raises:
        AnalysisInputError: Out-of-range inputs.
    """
    binary = _check(baseline, sd, alpha, power, ratio)
    if n_control < 2:
        raise AnalysisInputError(f"n_control must be at least 2 (got {n_control})")
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    if binary:

        def gap(d: float) -> float:
            var_c, var_t = _variances(baseline, d, None)
            return d - z * math.sqrt(var_c / n_control + var_t / (n_control * ratio))

        upper = 1.0 - baseline - 1e-12
        if gap(upper) < 0:
            raise AnalysisInputError(
                f"{n_control} units per arm cannot detect any lift of a {baseline} rate at "
                f"power {power}; add units"
            )
        delta = float(optimize.brentq(gap, 1e-12, upper, xtol=1e-12))
    else:
        assert sd is not None
        delta = z * sd * math.sqrt(1.0 / n_control + 1.0 / (n_control * ratio))
    var_c, _ = _variances(baseline, delta, sd)
    return PowerResult(
        baseline=baseline,
        sd=math.sqrt(var_c),
        mde_abs=delta,
        mde_rel=delta / baseline if baseline else None,
        n_control=int(n_control),
        n_treatment=math.ceil(n_control * ratio),
        alpha=alpha,
        power=power,
        ratio=ratio,
        binary=binary,
    )


def power_of_test(
    baseline: float,
    effect: float,
    n_control: int,
    *,
    sd: float | None = None,
    alpha: float = 0.05,
    ratio: float = 1.0,
) -> float:
    """Probability that a two-sided z-test detects an absolute ``effect``.

    Raises:
        AnalysisInputError: Out-of-range inputs.
    """
    binary = _check(baseline, sd, alpha, None, ratio)
    if binary and not 0.0 < baseline + effect < 1.0:
        raise AnalysisInputError(f"baseline + effect must stay in (0, 1) (got {baseline + effect})")
    var_c, var_t = _variances(baseline, effect, sd)
    return _power(effect, var_c, var_t, n_control, ratio, alpha)
