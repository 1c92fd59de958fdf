"""Lift chart of an experiment result (drawn with :mod:`analytics._figures`)."""

from __future__ import annotations

from pathlib import Path

from analytics._figures import new_figure, save_png
from analytics.exceptions import AnalysisInputError
from analytics.experiments._types import ExperimentResult


def plot_lifts(result: ExperimentResult, path: str | Path, *, relative: bool = True) -> Path:
    """Write a PNG with each variant's lift and interval, one panel per metric.

    Args:
        result: An experiment analysis.
        path: Where to write the PNG (parent folders are created).
        relative: Plot relative lift in percent (default) or absolute lift.

    Returns:
        The path written.

    Raises:
        AnalysisInputError: The result has no non-control variants to plot.
    """
    rows = [m for m in result.metrics if len(m.variants) > 1]
    if not rows:
        raise AnalysisInputError("nothing to plot: the result has no non-control variants")
    fig = new_figure(7.0, 1.2 + 1.1 * sum(len(m.variants) - 1 for m in rows))
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    level = round(100 * (1 - result.alpha))
    for ax, metric in zip(axes, rows, strict=True):
        variants = [v for v in metric.variants if not v.is_control]
        names, centre, low, high, colours = [], [], [], [], []
        for v in variants:
            value, ci = (v.rel_lift, v.rel_lift_ci) if relative else (v.abs_lift, v.abs_lift_ci)
            scale = 100.0 if relative else 1.0
            names.append(v.name)
            if value is None or ci is None:
                centre.append(float("nan"))
                low.append(0.0)
                high.append(0.0)
                colours.append("grey")
                continue
            centre.append(value * scale)
            low.append((value - ci[0]) * scale)
            high.append((ci[1] - value) * scale)
            significant = ci[0] > 0 or ci[1] < 0
            colours.append(("tab:green" if value > 0 else "tab:red") if significant else "tab:grey")
        ys = list(range(len(names)))
        for y, c, lo, hi, col in zip(ys, centre, low, high, colours, strict=True):
            ax.errorbar(c, y, xerr=[[lo], [hi]], fmt="o", color=col, capsize=4)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_yticks(ys, names)
        ax.set_ylim(-0.7, len(names) - 0.3)
        unit = "relative lift (%)" if relative else "absolute lift"
        suffix = ", CUPED" if metric.cuped else ""
        ax.set_title(f"{metric.name} ({metric.kind}{suffix}) vs {result.control}", fontsize=10)
        ax.set_xlabel(f"{unit}, {level}% CI")
    return save_png(fig, path)
