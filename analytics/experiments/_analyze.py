"""Experiment analysis from sufficient statistics, a pandas frame, a CSV or the workspace."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.exceptions import AnalysisInputError
from analytics.experiments import _core
from analytics.experiments._types import (
    ArmStats,
    ExperimentResult,
    MetricResult,
    MetricStats,
    SRMCheck,
    VariantResult,
)

SRM_THRESHOLD = 0.001
"""p-value below which the sample-ratio-mismatch check warns (a common industry choice)."""

_TRUE = {"true", "t", "yes", "y", "1", "1.0"}
_FALSE = {"false", "f", "no", "n", "0", "0.0"}


# ----------------------------------------------------------------------------- core analysis


def _default_tau2(control: ArmStats, var_c: float) -> float:
    """Mixing variance of the mSPRT: an effect scale of 0.1 per-unit standard deviations.

    Falls back to 10 % of the control mean when the control does not vary.
    """
    if var_c > 0 and math.isfinite(var_c):
        return 0.01 * var_c
    scale = 0.1 * abs(control.mean)
    return scale**2 if scale and math.isfinite(scale) else 1.0


def _variant_order(names: Sequence[str], control: str) -> list[str]:
    return [control, *sorted(n for n in names if n != control)]


def _analyze_metric(
    ms: MetricStats,
    control: str,
    alpha: float,
    min_units: int,
    min_conversions: int,
    mixture_sd: float | None,
) -> MetricResult:
    if control not in ms.arms:
        raise AnalysisInputError(
            f"control variant {control!r} has no rows for metric {ms.name!r}; "
            f"variants present: {sorted(ms.arms)}"
        )
    order = _variant_order(list(ms.arms), control)
    arms = ms.arms
    c = arms[control]
    notes: list[str] = []

    use_cuped = all(a.has_covariate for a in arms.values())
    theta = math.nan
    grand_x = math.nan
    variance_reduction: float | None = None
    if use_cuped:
        n_arr = np.array([arms[v].n for v in order], dtype=float)
        theta = _core.as_float(
            _core.cuped_theta(
                n_arr, [arms[v].cov_xy for v in order], [arms[v].var_x for v in order]
            )
        )
        grand_x = sum(arms[v].sum_x for v in order) / sum(arms[v].n for v in order)
        if not math.isfinite(theta):
            use_cuped = False
            notes.append(f"CUPED skipped on {ms.name!r}: the covariate does not vary.")

    def moments(a: ArmStats) -> tuple[float, float]:
        if use_cuped:
            m, v = _core.cuped_adjust(a.mean, a.var, a.mean_x, a.var_x, a.cov_xy, theta, grand_x)
            return _core.as_float(m), _core.as_float(v)
        if ms.binary:
            p = a.mean
            return p, p * (1.0 - p)
        return a.mean, a.var

    if use_cuped:
        raw = sum((arms[v].n - 1) * arms[v].var for v in order)
        adj = sum((arms[v].n - 1) * moments(arms[v])[1] for v in order)
        variance_reduction = 1.0 - adj / raw if raw > 0 else None

    too_little = False
    for v in order:
        a = arms[v]
        if a.n < min_units:
            too_little = True
            notes.append(
                f"{v!r} has only {a.n} units on {ms.name!r} (at least {min_units} per arm needed)."
            )
        if ms.binary and not use_cuped:
            conv, non = a.sum, a.n - a.sum
            if min(conv, non) < min_conversions:
                too_little = True
                what = "conversions" if conv < min_conversions else "non-conversions"
                notes.append(
                    f"{v!r} has only {int(min(conv, non))} {what} on {ms.name!r} "
                    f"(at least {min_conversions} per arm needed)."
                )

    mean_c, var_c = moments(c)
    tau2 = mixture_sd**2 if mixture_sd is not None else _default_tau2(c, var_c)
    results: list[VariantResult] = [
        VariantResult(name=control, is_control=True, n=c.n, mean=c.mean)
    ]
    for v in order[1:]:
        t = arms[v]
        mean_t, var_t = moments(t)
        if use_cuped:
            diff, lo, hi, p = _core.normal_diff_test(mean_t, var_t, t.n, mean_c, var_c, c.n, alpha)
            test = "CUPED z-test"
        elif ms.binary:
            diff, lo, hi, p = _core.two_proportion_ztest(t.sum, t.n, c.sum, c.n, alpha)
            test = "two-proportion z-test"
        else:
            diff, lo, hi, p = _core.welch_ttest(mean_t, var_t, t.n, mean_c, var_c, c.n, alpha)
            test = "Welch t-test"
        rel, rlo, rhi = _core.relative_lift_delta(mean_t, var_t, t.n, mean_c, var_c, c.n, alpha)
        var_diff = var_t / t.n + var_c / c.n
        if ms.binary and not use_cuped:
            prob, loss = _core.beta_binomial_posterior(t.sum, t.n, c.sum, c.n)
        else:
            pr, lo_ = _core.normal_posterior(diff, math.sqrt(var_diff))
            prob, loss = _core.as_float(pr), _core.as_float(lo_)
        av_p = _core.msprt_p_value(diff, var_diff, tau2)
        av_lo, av_hi = _core.msprt_confidence_sequence(diff, var_diff, tau2, alpha)
        rel_f = _core.as_float(rel)
        results.append(
            VariantResult(
                name=v,
                is_control=False,
                n=t.n,
                mean=t.mean,
                abs_lift=_core.as_float(diff),
                abs_lift_ci=(_core.as_float(lo), _core.as_float(hi)),
                rel_lift=rel_f if math.isfinite(rel_f) else None,
                rel_lift_ci=(_core.as_float(rlo), _core.as_float(rhi))
                if math.isfinite(rel_f)
                else None,
                p_value=_core.as_float(p),
                prob_beats_control=prob,
                expected_loss=loss,
                always_valid_p_value=_core.as_float(av_p),
                always_valid_ci=(_core.as_float(av_lo), _core.as_float(av_hi)),
                test=test,
            )
        )
    return MetricResult(
        name=ms.name,
        kind="binary" if ms.binary else "continuous",
        variants=tuple(results),
        cuped=use_cuped,
        variance_reduction=variance_reduction,
        n_missing=ms.n_missing,
        too_little_data=too_little,
        notes=tuple(notes),
    )


def srm_check(
    observed: Mapping[str, int],
    expected_split: Mapping[str, float] | None = None,
    threshold: float = SRM_THRESHOLD,
) -> SRMCheck:
    """Sample-ratio-mismatch check of unit counts against the planned split.

    Args:
        observed: Variant → units.
        expected_split: Variant → planned share (weights, normalised); equal when None.
        threshold: Warn when the chi-square p-value falls below this.

    Returns:
        The check, with a loud plain-language ``message`` when it fails.

    Raises:
        AnalysisInputError: ``expected_split`` does not name exactly the observed variants.
    """
    names = sorted(observed)
    if expected_split is not None:
        if set(expected_split) != set(names):
            raise AnalysisInputError(
                f"expected_split must name exactly the variants {names} "
                f"(got {sorted(expected_split)}); fix the split or the variant names"
            )
        if any(w <= 0 for w in expected_split.values()):
            raise AnalysisInputError(
                f"expected_split weights must be positive (got {dict(expected_split)})"
            )
        weights = np.array([expected_split[n] for n in names], dtype=float)
    else:
        weights = np.ones(len(names))
    share = weights / weights.sum()
    counts = np.array([observed[n] for n in names], dtype=float)
    chi2, p_value, dof = _core.srm_chisquare(counts, share)
    warning = p_value < threshold
    message = None
    if warning:
        parts = ", ".join(
            f"{n}: {int(c):,} vs {s * counts.sum():,.0f} expected"
            for n, c, s in zip(names, counts, share, strict=True)
        )
        message = (
            f"SAMPLE RATIO MISMATCH: the variants did not get the planned split ({parts}; "
            f"chi-square p = {p_value:.2g}). Assignment or logging is broken, so the lifts "
            "below are not trustworthy until that is fixed."
        )
    return SRMCheck(
        observed={n: int(observed[n]) for n in names},
        expected_share={n: float(s) for n, s in zip(names, share, strict=True)},
        chi2=chi2,
        dof=dof,
        p_value=p_value,
        threshold=threshold,
        warning=warning,
        message=message,
    )


def analyze_stats(
    metrics: Sequence[MetricStats],
    control: str,
    *,
    unit_counts: Mapping[str, int] | None = None,
    expected_split: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    min_units: int = 100,
    min_conversions: int = 10,
    mixture_sd: float | None = None,
    srm_threshold: float = SRM_THRESHOLD,
    experiment_id: str | None = None,
) -> ExperimentResult:
    """Analyse an experiment from per-variant sufficient statistics.

    This is the core every front end (pandas, CSV, DuckDB workspace, the 10-million-row
    benchmark) feeds. Binary metrics get a two-proportion z-test and a beta-binomial
    posterior; continuous ones Welch's t-test and a normal posterior; metrics whose
    arms carry covariate sums are CUPED-adjusted. Every non-control variant also gets a
    delta-method interval for the relative lift and an mSPRT always-valid p-value and
    confidence sequence. p-values are Holm-adjusted across variants × metrics.

    Args:
        metrics: Statistics of each metric (see :func:`stats_from_frame`).
        control: Name of the control variant.
        unit_counts: Units assigned per variant for the SRM check; defaults to the
            largest ``n`` seen per variant across metrics.
        expected_split: Planned share per variant; equal split when None.
        alpha: 1 − confidence level.
        min_units: Fewer units than this in an arm sets ``too_little_data``.
        min_conversions: Fewer conversions (or non-conversions) than this in an arm of a
            binary metric sets ``too_little_data``.
        mixture_sd: Scale of the mSPRT mixing prior on the effect, in metric units;
            default 0.1 control standard deviations.
        srm_threshold: p-value below which the SRM check warns.
        experiment_id: Carried into the result.

    Returns:
        The analysis.

    Raises:
        AnalysisInputError: No metrics, an unknown control, a single variant, or a bad
            ``alpha``.
    """
    if not metrics:
        raise AnalysisInputError("at least one metric is needed (got none); pass a metric column")
    if not 0.0 < alpha < 1.0:
        raise AnalysisInputError(f"alpha must be between 0 and 1 (got {alpha!r})")
    if unit_counts is None:
        counts: dict[str, int] = {}
        for ms in metrics:
            for v, a in ms.arms.items():
                counts[v] = max(counts.get(v, 0), a.n)
        unit_counts = counts
    if control not in unit_counts:
        raise AnalysisInputError(
            f"control variant {control!r} is not in the data; variants present: "
            f"{sorted(unit_counts)}. Pass one of them as the control"
        )
    if len(unit_counts) < 2:
        raise AnalysisInputError(
            f"an experiment needs at least two variants (got only {sorted(unit_counts)})"
        )
    srm = srm_check(unit_counts, expected_split, srm_threshold)
    results = [
        _analyze_metric(ms, control, alpha, min_units, min_conversions, mixture_sd)
        for ms in metrics
    ]
    # Holm across variants × metrics.
    flat = [
        (i, j) for i, m in enumerate(results) for j, v in enumerate(m.variants) if not v.is_control
    ]
    raw = np.array(
        [
            np.nan if results[i].variants[j].p_value is None else results[i].variants[j].p_value
            for i, j in flat
        ],
        dtype=float,
    )
    adjusted = _core.holm_adjust(raw)
    new_variants: list[list[VariantResult]] = [list(m.variants) for m in results]
    for (i, j), p_adj in zip(flat, adjusted, strict=True):
        new_variants[i][j] = dataclasses.replace(new_variants[i][j], p_value_adjusted=float(p_adj))
    results = [
        dataclasses.replace(m, variants=tuple(vs))
        for m, vs in zip(results, new_variants, strict=True)
    ]
    warnings: list[str] = []
    if srm.message:
        warnings.append(srm.message)
    for m in results:
        if m.too_little_data:
            warnings.append(f"Too little data on {m.name!r}: " + " ".join(m.notes))
        if m.n_missing:
            warnings.append(f"{m.n_missing:,} units had no value for {m.name!r} and were left out.")
    return ExperimentResult(
        control=control,
        variants=tuple(_variant_order(list(unit_counts), control)),
        srm=srm,
        metrics=tuple(results),
        alpha=alpha,
        experiment_id=experiment_id,
        warnings=tuple(warnings),
    )


# ----------------------------------------------------------------------------- pandas front end


def coerce_metric(series: pd.Series, name: str) -> pd.Series:
    """A metric column as float: booleans (TRUE/FALSE, true/false, yes/no, 0/1) become 0/1.

    Raises:
        AnalysisInputError: The column holds values that are neither numbers nor booleans.
    """
    if pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    text = series.astype("string").str.strip().str.lower()
    mapped = pd.Series(np.nan, index=series.index, dtype=float)
    mapped[text.isin(_TRUE).fillna(False).astype(bool)] = 1.0
    mapped[text.isin(_FALSE).fillna(False).astype(bool)] = 0.0
    rest = series.notna() & mapped.isna()
    if rest.any():
        numeric = pd.to_numeric(series[rest], errors="coerce")
        bad = numeric.isna()
        if bad.any():
            examples = list(dict.fromkeys(series[rest][bad].astype(str).tolist()))[:3]
            raise AnalysisInputError(
                f"metric column {name!r} must be numeric or boolean (TRUE/FALSE, 0/1); "
                f"got values like {examples}. Clean the column or pick another metric"
            )
        mapped[rest] = numeric.astype(float)
    return mapped


def _require_columns(df: pd.DataFrame, columns: Sequence[str], what: str = "column") -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise AnalysisInputError(
            f"unknown {what} {missing[0]!r}; the data has columns {list(map(str, df.columns))}"
        )


def _arm_stats(y: np.ndarray, x: np.ndarray | None) -> ArmStats:
    if x is None:
        return ArmStats(n=int(y.size), sum=float(y.sum()), sum_sq=float(np.dot(y, y)))
    return ArmStats(
        n=int(y.size),
        sum=float(y.sum()),
        sum_sq=float(np.dot(y, y)),
        sum_x=float(x.sum()),
        sum_x_sq=float(np.dot(x, x)),
        sum_xy=float(np.dot(x, y)),
        has_covariate=True,
    )


def stats_from_frame(
    df: pd.DataFrame,
    variant_col: str,
    metrics: Sequence[str],
    covariate: str | None = None,
) -> tuple[list[MetricStats], dict[str, int]]:
    """Per-variant sufficient statistics of each metric from unit-level rows.

    Args:
        df: One row per unit, shape ``(n_units, n_columns)``.
        variant_col: Column naming each unit's variant.
        metrics: Metric columns (numeric or boolean).
        covariate: Optional pre-period covariate column (enables CUPED).

    Returns:
        ``(metric_stats, unit_counts)``: statistics per metric and units per variant.
        Units missing a metric (or the covariate) are left out of that metric and
        counted in ``n_missing``.

    Raises:
        AnalysisInputError: Missing columns, no rows, or non-numeric metrics.
    """
    if df.empty:
        raise AnalysisInputError(
            "the experiment data has no rows; pass a file with one row per unit"
        )
    _require_columns(df, [variant_col], "variant column")
    _require_columns(df, list(metrics), "metric column")
    if covariate is not None:
        _require_columns(df, [covariate], "covariate column")
    variant = df[variant_col]
    has_variant = variant.notna().to_numpy()
    variant_str = variant.astype(str).to_numpy()
    unit_counts = {
        str(k): int(v) for k, v in pd.Series(variant_str[has_variant]).value_counts().items()
    }
    x_all = coerce_metric(df[covariate], covariate).to_numpy() if covariate else None
    out: list[MetricStats] = []
    for name in metrics:
        y = coerce_metric(df[name], name).to_numpy()
        ok = has_variant & ~np.isnan(y)
        if x_all is not None:
            ok &= ~np.isnan(x_all)
        vals = y[ok]
        binary = bool(vals.size) and bool(np.all((vals == 0.0) | (vals == 1.0)))
        arms: dict[str, ArmStats] = {}
        for v in unit_counts:
            sel = ok & (variant_str == v)
            arms[v] = _arm_stats(y[sel], None if x_all is None else x_all[sel])
        out.append(
            MetricStats(
                name=name, binary=binary, arms=arms, n_missing=int(has_variant.sum() - ok.sum())
            )
        )
    return out, unit_counts


def read_experiment_csv(path: str | Path) -> pd.DataFrame:
    """Read a unit-level experiment CSV (UTF-8 with or without BOM, else latin-1).

    Raises:
        FileNotFoundError: The file does not exist.
        AnalysisInputError: The file cannot be parsed as CSV.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"experiment file not found: {path} (pass an existing CSV path)")
    try:
        try:
            return pd.read_csv(path, encoding="utf-8-sig")
        except UnicodeDecodeError:
            return pd.read_csv(path, encoding="latin-1")
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise AnalysisInputError(f"{path} is not a readable CSV: {error}") from None


def analyze_frame(
    df: pd.DataFrame,
    variant_col: str,
    control: str,
    metrics: Sequence[str],
    *,
    covariate: str | None = None,
    revenue_col: str | None = None,
    cost_col: str | None = None,
    cost_per_unit: float | Mapping[str, float] | None = None,
    conversion_metric: str | None = None,
    expected_split: Mapping[str, float] | None = None,
    alpha: float = 0.05,
    min_units: int = 100,
    min_conversions: int = 10,
    mixture_sd: float | None = None,
    duration_days: float | None = None,
) -> ExperimentResult:
    """Analyse a unit-level experiment table.

    Args:
        df: One row per unit, shape ``(n_units, n_columns)``.
        variant_col: Column naming each unit's variant.
        control: The control variant's name (as written in ``variant_col``).
        metrics: Metric columns; 0/1 or boolean columns are analysed as proportions.
        covariate: Pre-period covariate for CUPED.
        revenue_col: Revenue per unit; analysed as a metric too and used for ROI.
        cost_col: Cost of treating each unit; gives the incremental cost for ROI.
        cost_per_unit: Alternative to ``cost_col``: one cost per treated unit, or a
            mapping variant → cost per unit.
        conversion_metric: Metric counted as conversions for ROI (default: the first
            binary metric).
        expected_split: Planned share per variant for the SRM check.
        alpha: 1 − confidence level.
        min_units: See :func:`analyze_stats`.
        min_conversions: See :func:`analyze_stats`.
        mixture_sd: See :func:`analyze_stats`.
        duration_days: Test length, for the ROI payback in days.

    Returns:
        The analysis, with ROI per variant when revenue or cost was given.

    Raises:
        AnalysisInputError: Unknown columns, unknown control, non-numeric metrics.
    """
    from analytics.experiments._roi import compute_roi

    metric_list = list(dict.fromkeys(metrics))
    if revenue_col is not None and revenue_col not in metric_list:
        metric_list.append(revenue_col)
    stats, counts = stats_from_frame(df, variant_col, metric_list, covariate)
    if control not in counts:
        raise AnalysisInputError(
            f"control {control!r} is not a value of {variant_col!r}; values present: "
            f"{sorted(counts)}. Pass one of them with --control"
        )
    result = analyze_stats(
        stats,
        control,
        unit_counts=counts,
        expected_split=expected_split,
        alpha=alpha,
        min_units=min_units,
        min_conversions=min_conversions,
        mixture_sd=mixture_sd,
    )
    cost_by_variant: dict[str, float] | None = None
    if cost_col is not None:
        _require_columns(df, [cost_col], "cost column")
        cost = coerce_metric(df[cost_col], cost_col).fillna(0.0)
        mean_cost = cost.groupby(df[variant_col].astype(str)).mean()
        cost_by_variant = {
            v: float((mean_cost[v] - mean_cost[control]) * counts[v])
            for v in counts
            if v != control
        }
    if revenue_col is None and cost_by_variant is None and cost_per_unit is None:
        return result
    conv = conversion_metric or next((m.name for m in result.metrics if m.kind == "binary"), None)
    roi = compute_roi(
        result,
        conversion_metric=conv,
        revenue_metric=revenue_col,
        cost_by_variant=cost_by_variant,
        cost_per_unit=cost_per_unit,
        duration_days=duration_days,
    )
    return dataclasses.replace(result, roi=roi)


def analyze_csv(
    path: str | Path, variant_col: str, control: str, metrics: Sequence[str], **kwargs: Any
) -> ExperimentResult:
    """Read a CSV with :func:`read_experiment_csv` and analyse it with :func:`analyze_frame`."""
    return analyze_frame(read_experiment_csv(path), variant_col, control, metrics, **kwargs)
