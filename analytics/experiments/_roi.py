"""Return on investment of an experiment's variants, and a plain-language summary of it."""

from __future__ import annotations

import math
from collections.abc import Mapping

from analytics.exceptions import AnalysisInputError
from analytics.experiments._types import ExperimentResult, RoiResult


def _scale(pair: tuple[float, float] | None, k: float) -> tuple[float, float] | None:
    return None if pair is None else (pair[0] * k, pair[1] * k)


def compute_roi(
    result: ExperimentResult,
    *,
    conversion_metric: str | None = None,
    revenue_metric: str | None = None,
    cost_by_variant: Mapping[str, float] | None = None,
    cost_per_unit: float | Mapping[str, float] | None = None,
    duration_days: float | None = None,
) -> tuple[RoiResult, ...]:
    """Incremental conversions, revenue, ROI and payback of each non-control variant.

    Incremental quantities are the (CUPED-adjusted where used) absolute lifts per unit
    times the variant's units, with their confidence intervals scaled the same way.

    Args:
        result: An analysis from :func:`analyze_stats` / :func:`analyze_frame`.
        conversion_metric: Binary metric counted as conversions.
        revenue_metric: Metric holding revenue per unit.
        cost_by_variant: Incremental cost (total, over control) of each variant.
        cost_per_unit: Cost per treated unit (one number, or variant → number); used
            when ``cost_by_variant`` is None.
        duration_days: Test length; gives ``payback_days``.

    Returns:
        One :class:`RoiResult` per non-control variant.

    Raises:
        AnalysisInputError: A named metric is not in the result, or costs are negative.
    """
    names = {m.name for m in result.metrics}
    for label, metric in (
        ("conversion_metric", conversion_metric),
        ("revenue_metric", revenue_metric),
    ):
        if metric is not None and metric not in names:
            raise AnalysisInputError(
                f"{label} {metric!r} was not analysed; analysed metrics: {sorted(names)}"
            )
    out: list[RoiResult] = []
    for variant in result.variants:
        if variant == result.control:
            continue
        n = result.srm.observed.get(variant, 0)
        conv = result.metric(conversion_metric).variant(variant) if conversion_metric else None
        rev = result.metric(revenue_metric).variant(variant) if revenue_metric else None
        if cost_by_variant is not None:
            cost: float | None = float(cost_by_variant.get(variant, 0.0))
        elif isinstance(cost_per_unit, Mapping):
            cost = float(cost_per_unit.get(variant, 0.0)) * n
        elif cost_per_unit is not None:
            cost = float(cost_per_unit) * n
        else:
            cost = None
        if cost is not None and cost < 0:
            raise AnalysisInputError(f"the cost of {variant!r} must not be negative (got {cost})")
        inc_rev = None if rev is None or rev.abs_lift is None else rev.abs_lift * n
        inc_rev_ci = None if rev is None else _scale(rev.abs_lift_ci, n)
        roi = roi_ci = payback = payback_days = None
        if cost and inc_rev is not None:
            roi = (inc_rev - cost) / cost
            if inc_rev_ci is not None:
                roi_ci = ((inc_rev_ci[0] - cost) / cost, (inc_rev_ci[1] - cost) / cost)
            payback = cost / inc_rev if inc_rev > 0 else math.inf
            if duration_days is not None:
                payback_days = payback * duration_days
        out.append(
            RoiResult(
                variant=variant,
                n=n,
                conversion_metric=conversion_metric,
                incremental_conversions_per_unit=None if conv is None else conv.abs_lift,
                incremental_conversions_per_unit_ci=None if conv is None else conv.abs_lift_ci,
                incremental_conversions=None
                if conv is None or conv.abs_lift is None
                else conv.abs_lift * n,
                incremental_conversions_ci=None if conv is None else _scale(conv.abs_lift_ci, n),
                revenue_metric=revenue_metric,
                incremental_revenue_per_unit=None if rev is None else rev.abs_lift,
                incremental_revenue_per_unit_ci=None if rev is None else rev.abs_lift_ci,
                incremental_revenue=inc_rev,
                incremental_revenue_ci=inc_rev_ci,
                cost=cost,
                cost_per_unit=None if cost is None or not n else cost / n,
                roi=roi,
                roi_ci=roi_ci,
                payback_periods=payback,
                payback_days=payback_days,
                alpha=result.alpha,
            )
        )
    return tuple(out)


def _money(x: float, currency: str) -> str:
    sign = "-" if x < 0 else ""
    x = abs(x)
    return f"{sign}{currency}{x:,.2f}" if x < 100 else f"{sign}{currency}{x:,.0f}"


def describe_roi(
    roi: RoiResult,
    *,
    label: str | None = None,
    unit_noun: str = "customers",
    conversion_noun: str = "conversions",
    currency: str = "$",
) -> str:
    """Say a :class:`RoiResult` in plain language.

    Example: ``"Mens E-Mail brought 0.68 extra purchases per 100 customers (95% CI 0.54
    to 0.81), worth $0.77 per customer (95% CI $0.40 to $1.14), $16,400 across 21,307
    customers. …"``

    Args:
        roi: The ROI of one variant.
        label: How to name the variant in the sentence (default its name).
        unit_noun: Plural noun for units (customers, visitors, …).
        conversion_noun: Plural noun for conversions (purchases, sign-ups, …).
        currency: Currency symbol put before amounts.

    Returns:
        One or a few sentences.
    """
    who = label or roi.variant
    level = f"{round(100 * (1 - roi.alpha))}% CI"
    singular = unit_noun[:-1] if unit_noun.endswith("s") else unit_noun
    parts: list[str] = []
    if roi.incremental_conversions_per_unit is not None:
        lift = 100 * roi.incremental_conversions_per_unit
        word = "extra" if lift >= 0 else "fewer"
        text = f"{who} brought {abs(lift):.2f} {word} {conversion_noun} per 100 {unit_noun}"
        if roi.incremental_conversions_per_unit_ci is not None:
            lo, hi = (100 * v for v in roi.incremental_conversions_per_unit_ci)
            text += f" ({level} {lo:.2f} to {hi:.2f})"
        parts.append(text)
    if roi.incremental_revenue_per_unit is not None and roi.incremental_revenue is not None:
        text = f"worth {_money(roi.incremental_revenue_per_unit, currency)} per {singular}"
        if roi.incremental_revenue_per_unit_ci is not None:
            lo, hi = roi.incremental_revenue_per_unit_ci
            text += f" ({level} {_money(lo, currency)} to {_money(hi, currency)})"
        text += f", {_money(roi.incremental_revenue, currency)} across {roi.n:,} {unit_noun}"
        if parts:
            parts[0] += ", " + text
        else:
            parts.append(f"{who} brought {text}")
    sentence = (parts[0] if parts else f"{who} was tested on {roi.n:,} {unit_noun}") + "."
    if roi.cost is not None and roi.roi is not None:
        sentence += (
            f" At {_money(roi.cost_per_unit or 0.0, currency)} per {singular} "
            f"({_money(roi.cost, currency)} in all) the return on that spend is {100 * roi.roi:,.0f}%"
        )
        if roi.roi_ci is not None:
            sentence += f" ({level} {100 * roi.roi_ci[0]:,.0f}% to {100 * roi.roi_ci[1]:,.0f}%)"
        if roi.payback_periods is not None and math.isfinite(roi.payback_periods):
            if roi.payback_days is not None:
                sentence += f"; it paid for itself in about {roi.payback_days:,.1f} days"
            else:
                sentence += f"; it paid for itself in {roi.payback_periods:.2g} of the test period"
        elif roi.payback_periods is not None:
            sentence += "; it did not bring extra revenue, so it does not pay back"
        sentence += "."
    if roi.incremental_conversions_per_unit_ci is not None:
        lo, hi = roi.incremental_conversions_per_unit_ci
        if lo <= 0 <= hi:
            sentence += f" The {conversion_noun} lift is not statistically clear: zero is inside the interval."
    return sentence
