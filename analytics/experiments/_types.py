"""Result types of the experiment analysis (frozen dataclasses with ``to_dict``)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


def _num(value: float | None) -> float | None:
    """JSON-safe float: NaN and infinities become None."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _pair(pair: tuple[float, float] | None) -> list[float | None] | None:
    return None if pair is None else [_num(pair[0]), _num(pair[1])]


@dataclass(frozen=True)
class ArmStats:
    """Sufficient statistics of one metric in one arm.

    Attributes:
        n: Units with a value of the metric (and of the covariate, when one is used).
        sum: Σ y.
        sum_sq: Σ y².
        sum_x: Σ x of the pre-period covariate (0 without one).
        sum_x_sq: Σ x².
        sum_xy: Σ x y.
        has_covariate: Whether the covariate sums are filled in.
    """

    n: int
    sum: float
    sum_sq: float
    sum_x: float = 0.0
    sum_x_sq: float = 0.0
    sum_xy: float = 0.0
    has_covariate: bool = False

    @property
    def mean(self) -> float:
        """Mean of y (NaN for an empty arm)."""
        return self.sum / self.n if self.n else math.nan

    @property
    def var(self) -> float:
        """Sample variance of y (ddof=1)."""
        if self.n < 2:
            return math.nan
        return max((self.sum_sq - self.sum**2 / self.n) / (self.n - 1), 0.0)

    @property
    def mean_x(self) -> float:
        """Mean of the covariate."""
        return self.sum_x / self.n if self.n else math.nan

    @property
    def var_x(self) -> float:
        """Sample variance of the covariate (ddof=1)."""
        if self.n < 2:
            return math.nan
        return max((self.sum_x_sq - self.sum_x**2 / self.n) / (self.n - 1), 0.0)

    @property
    def cov_xy(self) -> float:
        """Sample covariance of covariate and metric (ddof=1)."""
        if self.n < 2:
            return math.nan
        return (self.sum_xy - self.sum_x * self.sum / self.n) / (self.n - 1)


@dataclass(frozen=True)
class MetricStats:
    """Sufficient statistics of one metric across all arms.

    Attributes:
        name: Metric (column) name.
        binary: True when every value is 0 or 1 (analysed as a proportion).
        arms: Variant name → statistics.
        n_missing: Units left out because the metric (or covariate) was missing.
    """

    name: str
    binary: bool
    arms: dict[str, ArmStats]
    n_missing: int = 0


@dataclass(frozen=True)
class SRMCheck:
    """Sample-ratio-mismatch check (Pearson chi-square of unit counts vs the planned split).

    Attributes:
        observed: Variant → units.
        expected_share: Variant → planned share.
        chi2: Test statistic.
        dof: Degrees of freedom.
        p_value: p-value of the chi-square test.
        threshold: p-value below which the check warns.
        warning: True when ``p_value < threshold``: the split is off and the results
            should not be trusted until the assignment is fixed.
        message: A plain-language warning, or None when the split looks fine.
    """

    observed: dict[str, int]
    expected_share: dict[str, float]
    chi2: float
    dof: int
    p_value: float
    threshold: float
    warning: bool
    message: str | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "p_value": _num(self.p_value),
            "warning": self.warning,
            "chi2": _num(self.chi2),
            "dof": self.dof,
            "threshold": self.threshold,
            "observed": dict(self.observed),
            "expected_share": {k: _num(v) for k, v in self.expected_share.items()},
            "message": self.message,
        }


@dataclass(frozen=True)
class VariantResult:
    """One variant's result on one metric.

    Lift fields are None for the control variant.

    Attributes:
        name: Variant name.
        is_control: Whether this is the control.
        n: Units.
        mean: Raw mean of the metric (a rate for binary metrics).
        abs_lift: Treatment − control (CUPED-adjusted when a covariate is used).
        abs_lift_ci: Confidence interval of ``abs_lift``.
        rel_lift: ``abs_lift / control mean`` (None when the control mean is 0).
        rel_lift_ci: Delta-method interval of ``rel_lift``.
        p_value: Two-sided p-value (two-proportion z-test, Welch t-test, or a z-test on
            CUPED-adjusted means).
        p_value_adjusted: Holm-adjusted across all variants × metrics.
        prob_beats_control: Bayesian posterior probability that the variant is better.
        expected_loss: Posterior expected loss of shipping the variant, in metric units.
        always_valid_p_value: mSPRT p-value, valid however often the test was peeked at.
        always_valid_ci: mSPRT confidence sequence for ``abs_lift``.
        test: Name of the frequentist test used.
    """

    name: str
    is_control: bool
    n: int
    mean: float
    abs_lift: float | None = None
    abs_lift_ci: tuple[float, float] | None = None
    rel_lift: float | None = None
    rel_lift_ci: tuple[float, float] | None = None
    p_value: float | None = None
    p_value_adjusted: float | None = None
    prob_beats_control: float | None = None
    expected_loss: float | None = None
    always_valid_p_value: float | None = None
    always_valid_ci: tuple[float, float] | None = None
    test: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary; the control only carries ``n`` and ``mean``."""
        out: dict[str, Any] = {"n": self.n, "mean": _num(self.mean), "is_control": self.is_control}
        if self.is_control:
            return out
        out.update(
            abs_lift=_num(self.abs_lift),
            abs_lift_ci=_pair(self.abs_lift_ci),
            rel_lift=_num(self.rel_lift),
            rel_lift_ci=_pair(self.rel_lift_ci),
            p_value=_num(self.p_value),
            p_value_adjusted=_num(self.p_value_adjusted),
            prob_beats_control=_num(self.prob_beats_control),
            expected_loss=_num(self.expected_loss),
            always_valid_p_value=_num(self.always_valid_p_value),
            always_valid_ci=_pair(self.always_valid_ci),
            test=self.test,
        )
        return out


@dataclass(frozen=True)
class MetricResult:
    """All variants' results on one metric.

    Attributes:
        name: Metric name.
        kind: ``"binary"`` or ``"continuous"``.
        variants: Control first, then the other variants in sorted order.
        cuped: Whether the lifts are CUPED-adjusted with a pre-period covariate.
        variance_reduction: Share of variance CUPED removed (None without CUPED).
        n_missing: Units without a value that were left out.
        too_little_data: True when an arm has too few units or conversions to trust
            the result (see ``notes``).
        notes: Plain-language caveats (e.g. why ``too_little_data`` is set).
    """

    name: str
    kind: str
    variants: tuple[VariantResult, ...]
    cuped: bool = False
    variance_reduction: float | None = None
    n_missing: int = 0
    too_little_data: bool = False
    notes: tuple[str, ...] = ()

    def variant(self, name: str) -> VariantResult:
        """The result of the variant called ``name``."""
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"metric {self.name!r} has no variant {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "kind": self.kind,
            "cuped": self.cuped,
            "variance_reduction": _num(self.variance_reduction),
            "n_missing": self.n_missing,
            "too_little_data": self.too_little_data,
            "notes": list(self.notes),
            "variants": {v.name: v.to_dict() for v in self.variants},
        }


@dataclass(frozen=True)
class RoiResult:
    """Return on investment of one variant against control.

    Totals scale the per-unit lift to the variant's units (what the variant brought in
    the test); ``roi`` is ``(incremental revenue − incremental cost) / incremental cost``.

    Attributes:
        variant: Variant name.
        n: Units in the variant.
        conversion_metric: Metric counted as conversions (None when not given).
        incremental_conversions_per_unit: Lift of the conversion metric per unit.
        incremental_conversions_per_unit_ci: Its interval.
        incremental_conversions: Total extra conversions in the variant.
        incremental_conversions_ci: Its interval.
        revenue_metric: Metric holding revenue per unit (None when not given).
        incremental_revenue_per_unit: Revenue lift per unit.
        incremental_revenue_per_unit_ci: Its interval.
        incremental_revenue: Total extra revenue in the variant.
        incremental_revenue_ci: Its interval.
        cost: Incremental cost of the variant over control (total), None if unknown.
        cost_per_unit: ``cost / n``.
        roi: Return on the incremental cost (1.0 = 100 %), None without cost or revenue.
        roi_ci: Interval of ``roi`` (from the revenue interval; cost is treated as known).
        payback_periods: Cost ÷ incremental revenue, in test periods: how many runs of the
            same length it takes for the extra revenue to cover the cost.
        payback_days: ``payback_periods`` × test length in days, when the length is known.
        alpha: 1 − confidence level of the intervals.
    """

    variant: str
    n: int
    conversion_metric: str | None
    incremental_conversions_per_unit: float | None
    incremental_conversions_per_unit_ci: tuple[float, float] | None
    incremental_conversions: float | None
    incremental_conversions_ci: tuple[float, float] | None
    revenue_metric: str | None
    incremental_revenue_per_unit: float | None
    incremental_revenue_per_unit_ci: tuple[float, float] | None
    incremental_revenue: float | None
    incremental_revenue_ci: tuple[float, float] | None
    cost: float | None
    cost_per_unit: float | None
    roi: float | None
    roi_ci: tuple[float, float] | None
    payback_periods: float | None
    payback_days: float | None
    alpha: float = 0.05

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, tuple):
                out[key] = _pair(value)
            elif isinstance(value, float):
                out[key] = _num(value)
            else:
                out[key] = value
        return out


@dataclass(frozen=True)
class ExperimentResult:
    """Full analysis of one experiment.

    Attributes:
        control: Control variant name.
        variants: All variant names, control first.
        srm: Sample-ratio-mismatch check.
        metrics: One result per metric, in the order asked for.
        alpha: 1 − confidence level of every interval.
        experiment_id: Workspace experiment id, when analysed from the workspace.
        roi: ROI per non-control variant (empty unless revenue or cost was given).
        warnings: Plain-language warnings the bot should say first (SRM, too little data).
    """

    control: str
    variants: tuple[str, ...]
    srm: SRMCheck
    metrics: tuple[MetricResult, ...]
    alpha: float = 0.05
    experiment_id: str | None = None
    roi: tuple[RoiResult, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def metric(self, name: str) -> MetricResult:
        """The result of the metric called ``name``."""
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(f"no metric {name!r}; analysed: {[m.name for m in self.metrics]}")

    @property
    def too_little_data(self) -> bool:
        """True when any metric has too little data to trust."""
        return any(m.too_little_data for m in self.metrics)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the ``beacon experiment analyze --json`` payload)."""
        return {
            "experiment_id": self.experiment_id,
            "control": self.control,
            "variants": list(self.variants),
            "alpha": self.alpha,
            "srm": self.srm.to_dict(),
            "metrics": {m.name: m.to_dict() for m in self.metrics},
            "roi": {r.variant: r.to_dict() for r in self.roi},
            "too_little_data": self.too_little_data,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PowerResult:
    """Sample size / minimum detectable effect for a two-arm test.

    Attributes:
        baseline: Control mean (a rate for binary metrics).
        sd: Per-unit standard deviation used (``sqrt(p(1−p))`` for binary metrics).
        mde_abs: Minimum detectable absolute effect.
        mde_rel: ``mde_abs / baseline``.
        n_control: Units needed in control.
        n_treatment: Units needed in the treatment.
        alpha: Two-sided significance level.
        power: Probability of detecting ``mde_abs``.
        ratio: ``n_treatment / n_control``.
        binary: Whether the binomial variance was used.
    """

    baseline: float
    sd: float
    mde_abs: float
    mde_rel: float | None
    n_control: int
    n_treatment: int
    alpha: float
    power: float
    ratio: float
    binary: bool

    @property
    def n_total(self) -> int:
        """Units in both arms."""
        return self.n_control + self.n_treatment

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        out = {k: (_num(v) if isinstance(v, float) else v) for k, v in self.__dict__.items()}
        out["n_total"] = self.n_total
        return out
