"""Plain-language sentences for experiment results (shared by the bot and the digest)."""

from __future__ import annotations

from analytics.experiments._types import MetricResult


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def describe_lifts(metric: MetricResult, control: str) -> list[str]:
    """One sentence per treatment variant of ``metric``: levels, lift with its 95% CI,
    Holm-adjusted p-value, the chance it beats ``control``, and whether that is real.

    Args:
        metric: One metric's result from :func:`analyze_frame` and friends.
        control: The control variant's name.

    Returns:
        Sentences like "clicked: question 14.3% vs 12.4%, +1.9 points (95% CI +0.9 to
        +3.0), p < 0.001 after Holm correction; 100% chance question is better — a real
        difference." (variants without a lift are skipped).
    """
    base = metric.variant(control)
    sentences = []
    for variant in metric.variants:
        if variant.is_control or variant.abs_lift is None or variant.abs_lift_ci is None:
            continue
        low, high = variant.abs_lift_ci
        if metric.kind == "binary":
            level = f"{_pct(variant.mean)} vs {_pct(base.mean)}"
            lift = f"{100 * variant.abs_lift:+.1f} points (95% CI {100 * low:+.1f} to {100 * high:+.1f})"
        else:
            level = f"{variant.mean:,.2f} vs {base.mean:,.2f} per unit"
            lift = f"{variant.abs_lift:+,.2f} (95% CI {low:+,.2f} to {high:+,.2f})"
        verdict = (
            "a real difference" if low > 0 or high < 0 else "not distinguishable from no effect"
        )
        p_adj = variant.p_value_adjusted
        p_text = (
            ""
            if p_adj is None
            else ", p < 0.001 after Holm correction"
            if p_adj < 0.001
            else f", p = {p_adj:.3f} after Holm correction"
        )
        sure = (
            f"; {100 * variant.prob_beats_control:.0f}% chance {variant.name} is better"
            if variant.prob_beats_control is not None
            else ""
        )
        sentences.append(
            f"{metric.name}: {variant.name} {level}, {lift}{p_text}{sure} — {verdict}."
        )
    return sentences
