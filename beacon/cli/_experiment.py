"""``beacon experiment ...`` commands: analyze, power, uplift."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from beacon.cli._common import JSON_OPTION, print_json, progress, run_command
from foundation.exceptions import InputError

app = typer.Typer(
    help="A/B-test analysis, power calculations and uplift targeting.", no_args_is_help=True
)


def _parse_split(text: str | None) -> dict[str, float] | None:
    if not text:
        return None
    split: dict[str, float] = {}
    for part in text.split(","):
        name, sep, weight = part.rpartition("=")
        if not sep or not name.strip():
            raise InputError(f"--split must look like 'A=0.5,B=0.5' (got {text!r})")
        try:
            split[name.strip()] = float(weight)
        except ValueError:
            raise InputError(
                f"--split weight for {name.strip()!r} must be a number (got {weight!r})"
            ) from None
    return split


def _fmt(x: float | None, pct: bool = False, digits: int = 4) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{100 * x:+.2f}%" if pct else f"{x:.{digits}g}"


def _fmt_ci(ci: tuple[float, float] | None, pct: bool = False) -> str:
    if ci is None:
        return "–"
    return f"[{_fmt(ci[0], pct)}, {_fmt(ci[1], pct)}]"


@app.command()
def analyze(
    input: Path = typer.Option(..., "--input", help="CSV with one row per unit."),
    variant_col: str = typer.Option(
        ..., "--variant-col", help="Column naming each unit's variant."
    ),
    control: str = typer.Option(..., "--control", help="Name of the control variant."),
    metric: list[str] = typer.Option(..., "--metric", help="Metric column (repeat for more)."),
    covariate: str | None = typer.Option(None, "--covariate", help="Pre-period covariate (CUPED)."),
    cost_col: str | None = typer.Option(None, "--cost-col", help="Cost of treating each unit."),
    revenue_col: str | None = typer.Option(None, "--revenue-col", help="Revenue per unit (ROI)."),
    cost_per_unit: float | None = typer.Option(
        None, "--cost-per-unit", help="Cost per treated unit, when there is no cost column."
    ),
    conversion_metric: str | None = typer.Option(
        None,
        "--conversion-metric",
        help="Metric counted as conversions for ROI (default: first 0/1 metric).",
    ),
    split: str | None = typer.Option(
        None, "--split", help="Planned split, e.g. 'A=0.5,B=0.5' (default equal)."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="1 − confidence level."),
    plot: Path | None = typer.Option(None, "--plot", help="Also write a lift chart PNG here."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Per-variant lifts, intervals, p-values, Bayesian odds, SRM check and ROI."""

    def body() -> None:
        from analytics.experiments import analyze_csv, describe_roi, plot_lifts

        result = analyze_csv(
            input,
            variant_col,
            control,
            metric,
            covariate=covariate,
            revenue_col=revenue_col,
            cost_col=cost_col,
            cost_per_unit=cost_per_unit,
            conversion_metric=conversion_metric,
            expected_split=_parse_split(split),
            alpha=alpha,
        )
        if plot is not None:
            plot_lifts(result, plot)
        if json_out:
            print_json(result.to_dict())
            return
        out = Console()
        if result.srm.warning:
            out.print(f"[bold red]⚠ {result.srm.message}[/]")
        else:
            out.print(f"Sample ratio check: OK (chi-square p = {result.srm.p_value:.3g}).")
        level = round(100 * (1 - result.alpha))
        for m in result.metrics:
            title = f"{m.name} ({m.kind}{', CUPED' if m.cuped else ''}) vs {result.control}"
            table = Table(title=title)
            for col in (
                "variant",
                "n",
                "mean",
                f"abs lift [{level}% CI]",
                f"rel lift [{level}% CI]",
                "p",
                "p (Holm)",
                "P(beats control)",
                "expected loss",
            ):
                table.add_column(col, justify="left" if col == "variant" else "right")
            for v in m.variants:
                if v.is_control:
                    table.add_row(
                        v.name + " (control)", f"{v.n:,}", _fmt(v.mean), "", "", "", "", "", ""
                    )
                    continue
                table.add_row(
                    v.name,
                    f"{v.n:,}",
                    _fmt(v.mean),
                    f"{_fmt(v.abs_lift)} {_fmt_ci(v.abs_lift_ci)}",
                    f"{_fmt(v.rel_lift, True)} {_fmt_ci(v.rel_lift_ci, True)}",
                    _fmt(v.p_value, digits=3),
                    _fmt(v.p_value_adjusted, digits=3),
                    _fmt(v.prob_beats_control, digits=3),
                    _fmt(v.expected_loss, digits=3),
                )
            out.print(table)
            for note in m.notes:
                out.print(f"[yellow]{note}[/]")
        for r in result.roi:
            out.print(describe_roi(r))
        if plot is not None:
            out.print(f"Chart written to {plot}")

    run_command(body)


@app.command()
def power(
    baseline: float = typer.Option(
        ..., "--baseline", help="Control mean (a rate in (0,1) without --sd)."
    ),
    mde: float | None = typer.Option(
        None, "--mde", help="Effect to detect (gives the sample size)."
    ),
    relative: bool = typer.Option(
        False, "--relative", help="--mde is relative to the baseline (0.1 = +10%)."
    ),
    n_per_arm: int | None = typer.Option(
        None, "--n-per-arm", help="Control units available (gives the MDE)."
    ),
    sd: float | None = typer.Option(
        None, "--sd", help="Per-unit standard deviation of a continuous metric."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Two-sided significance level."),
    power_: float = typer.Option(0.8, "--power", help="Desired power."),
    ratio: float = typer.Option(1.0, "--ratio", help="Treatment units per control unit."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Sample size for an effect (--mde) or the minimum detectable effect (--n-per-arm)."""

    def body() -> None:
        from analytics.experiments import minimum_detectable_effect, sample_size

        if (mde is None) == (n_per_arm is None):
            raise InputError(
                "pass exactly one of --mde (for a sample size) or --n-per-arm (for an MDE)"
            )
        if mde is not None:
            res = sample_size(
                baseline, mde, relative=relative, sd=sd, alpha=alpha, power=power_, ratio=ratio
            )
        else:
            assert n_per_arm is not None
            res = minimum_detectable_effect(
                baseline, n_per_arm, sd=sd, alpha=alpha, power=power_, ratio=ratio
            )
        if json_out:
            print_json(res.to_dict())
            return
        rel = f" ({100 * res.mde_rel:+.2f}% relative)" if res.mde_rel is not None else ""
        Console().print(
            f"To detect {res.mde_abs:+.4g}{rel} on a baseline of {res.baseline:.4g} with "
            f"{100 * res.power:.0f}% power at alpha {res.alpha}: {res.n_control:,} control and "
            f"{res.n_treatment:,} treatment units ({res.n_total:,} in all)."
        )

    run_command(body)


@app.command()
def uplift(
    input: Path = typer.Option(
        ..., "--input", help="CSV of a past randomised test, one row per unit."
    ),
    treatment_col: str = typer.Option(
        ..., "--treatment-col", help="Column with the arm of each unit."
    ),
    treatment: str = typer.Option(
        "1", "--treatment", help="Value of --treatment-col for treated units."
    ),
    control: str = typer.Option(
        "0", "--control", help="Value of --treatment-col for control units."
    ),
    outcome: str = typer.Option(..., "--outcome", help="Outcome column (0/1 or numeric)."),
    features: str = typer.Option(..., "--features", help="Comma-separated feature columns."),
    learner: str = typer.Option("t", "--learner", help="t, x or ct (class transformation)."),
    folds: int = typer.Option(5, "--folds", help="Held-out folds for Qini/AUUC."),
    segment_col: str | None = typer.Option(
        None, "--segment-col", help="Report observed uplift by this column."
    ),
    score: Path | None = typer.Option(
        None, "--score", help="CSV of candidates to rank for the next campaign."
    ),
    id_col: str | None = typer.Option(None, "--id-col", help="Id column of --score."),
    output: Path | None = typer.Option(
        None, "--output", help="Write the ranking of --score here (CSV)."
    ),
    budget: int | None = typer.Option(None, "--budget", help="Most candidates to target."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Fit an uplift model, evaluate it on held-out folds and rank candidates to target."""

    def body() -> None:
        import numpy as np
        import pandas as pd

        from analytics.experiments import (
            ClassTransformationLearner,
            TLearner,
            XLearner,
            coerce_metric,
            evaluate_uplift,
            rank_targets,
            read_experiment_csv,
            uplift_by_segment,
        )

        makers = {"t": TLearner, "x": XLearner, "ct": ClassTransformationLearner}
        if learner not in makers:
            raise InputError(f"--learner must be one of {sorted(makers)} (got {learner!r})")
        df = read_experiment_csv(input)
        cols = [c.strip() for c in features.split(",") if c.strip()]
        for c in [treatment_col, outcome, *cols, *([segment_col] if segment_col else [])]:
            if c not in df.columns:
                raise InputError(f"unknown column {c!r}; {input} has columns {list(df.columns)}")
        arm = df[treatment_col].astype(str)
        keep = arm.isin([treatment, control])
        if not (arm[keep] == treatment).any() or not (arm[keep] == control).any():
            raise InputError(
                f"{treatment_col!r} must contain both {treatment!r} and {control!r}; "
                f"values present: {sorted(arm.unique())[:10]}"
            )
        df = df[keep].reset_index(drop=True)
        t = (arm[keep] == treatment).to_numpy().astype(int)
        y = coerce_metric(df[outcome], outcome).to_numpy()
        candidates = read_experiment_csv(score) if score is not None else None
        frames = [df[cols]] + ([candidates.reindex(columns=cols)] if candidates is not None else [])
        encoded = pd.get_dummies(pd.concat(frames, ignore_index=True), dtype=float)
        X = encoded.iloc[: len(df)].to_numpy(dtype=float)
        if np.isnan(X).any():
            raise InputError("feature columns have missing values; fill or drop them first")
        with progress(f"cross-fitting {folds} folds", None, enabled=not json_out):
            evaluation = evaluate_uplift(makers[learner], X, t, y, n_splits=folds)
        payload: dict[str, Any] = {"evaluation": evaluation.to_dict(), "n": len(y)}
        segments: list[dict[str, Any]] = []
        if segment_col:
            segments = [
                s.to_dict() for s in uplift_by_segment(df[segment_col], t, y, evaluation.oof_uplift)
            ]
            payload["segments"] = segments
        if candidates is not None:
            model = makers[learner]().fit(X, t, y)
            Xc = encoded.iloc[len(df) :].to_numpy(dtype=float)
            if id_col and id_col not in candidates.columns:
                raise InputError(f"unknown --id-col {id_col!r} in {score}")
            ids = candidates[id_col].to_numpy() if id_col else None
            plan = rank_targets(model.predict(np.nan_to_num(Xc)), ids, budget=budget)
            payload["targeting"] = plan.to_dict(top=10)
            if output is not None:
                plan.ranking.to_csv(output, index=False)
        if json_out:
            print_json(payload)
            return
        out = Console()
        out.print(
            f"{evaluation.learner}: Qini {evaluation.qini_mean:.5f}, AUUC {evaluation.auuc_mean:.5f} "
            f"(mean of {folds} held-out folds; 0 = random targeting)"
        )
        for s in segments:
            out.print(
                f"  {s['segment']}: observed uplift {s['uplift']:+.4f} "
                f"[{s['uplift_ci'][0]:+.4f}, {s['uplift_ci'][1]:+.4f}]"
            )
        if "targeting" in payload:
            tg = payload["targeting"]
            assert isinstance(tg, dict)
            out.print(
                f"Target {tg['n_targeted']:,} of {tg['n_candidates']:,} candidates: expected "
                f"{tg['expected_incremental']:.1f} incremental {outcome} "
                f"(everyone: {tg['expected_incremental_all']:.1f})."
            )

    run_command(body)
