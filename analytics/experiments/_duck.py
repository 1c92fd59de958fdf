"""Sufficient statistics computed inside DuckDB, and the workspace experiment analysis."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import duckdb

from analytics.exceptions import AnalysisInputError
from analytics.experiments._analyze import analyze_stats
from analytics.experiments._roi import compute_roi
from analytics.experiments._types import ArmStats, ExperimentResult, MetricStats


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(f"SELECT * FROM {_quote(table)} LIMIT 0").description or []
    return [r[0] for r in rows]


def sufficient_stats_sql(
    table: str,
    variant_col: str,
    metrics: Sequence[str],
    covariate: str | None = None,
    where: str | None = None,
) -> str:
    """The SQL that computes per-variant sufficient statistics of every metric in one scan.

    For each metric ``m`` it returns ``m__n, m__sum, m__sum_sq, m__binary`` (and with a
    covariate ``m__sum_x, m__sum_x_sq, m__sum_xy``), plus ``__units`` (rows per variant)
    and ``__variant``. Identifiers are quoted; ``where`` is a trusted SQL fragment that
    may use ``?`` parameters.
    """
    x = _quote(covariate) if covariate else None
    cols = [f"CAST({_quote(variant_col)} AS VARCHAR) AS __variant", "count(*) AS __units"]
    for i, m in enumerate(metrics):
        y = f"CAST({_quote(m)} AS DOUBLE)"
        ok = f"{y} IS NOT NULL" + (f" AND {x} IS NOT NULL" if x else "")
        cols += [
            f"count(*) FILTER (WHERE {ok}) AS m{i}__n",
            f"coalesce(sum({y}) FILTER (WHERE {ok}), 0) AS m{i}__sum",
            f"coalesce(sum({y} * {y}) FILTER (WHERE {ok}), 0) AS m{i}__sum_sq",
            f"coalesce(bool_and({y} = 0 OR {y} = 1) FILTER (WHERE {ok}), true) AS m{i}__binary",
        ]
        if x:
            xd = f"CAST({x} AS DOUBLE)"
            cols += [
                f"coalesce(sum({xd}) FILTER (WHERE {ok}), 0) AS m{i}__sum_x",
                f"coalesce(sum({xd} * {xd}) FILTER (WHERE {ok}), 0) AS m{i}__sum_x_sq",
                f"coalesce(sum({xd} * {y}) FILTER (WHERE {ok}), 0) AS m{i}__sum_xy",
            ]
    conditions = [f"{_quote(variant_col)} IS NOT NULL"] + ([f"({where})"] if where else [])
    return (
        f"SELECT {', '.join(cols)} FROM {_quote(table)} WHERE {' AND '.join(conditions)} GROUP BY 1"
    )


def stats_from_duckdb(
    con: duckdb.DuckDBPyConnection,
    table: str,
    variant_col: str,
    metrics: Sequence[str],
    covariate: str | None = None,
    where: str | None = None,
    params: Sequence[Any] = (),
) -> tuple[list[MetricStats], dict[str, int]]:
    """Per-variant sufficient statistics of ``metrics`` in a DuckDB table, in one SQL scan.

    Args:
        con: Open DuckDB connection.
        table: Table (or view) with one row per unit.
        variant_col: Column naming each unit's variant.
        metrics: Numeric or boolean metric columns.
        covariate: Optional pre-period covariate column (enables CUPED).
        where: Optional trusted filter with ``?`` placeholders.
        params: Values for the placeholders.

    Returns:
        ``(metric_stats, unit_counts)`` as :func:`stats_from_frame` returns them.

    Raises:
        AnalysisInputError: A column is not in the table, or a metric is not numeric.
    """
    columns = _table_columns(con, table)
    for what, names in (
        ("variant column", [variant_col]),
        ("metric column", list(metrics)),
        ("covariate column", [covariate] if covariate else []),
    ):
        for name in names:
            if name not in columns:
                raise AnalysisInputError(f"unknown {what} {name!r}; {table} has columns {columns}")
    sql = sufficient_stats_sql(table, variant_col, metrics, covariate, where)
    try:
        rows = con.execute(sql, list(params)).fetchall()
    except duckdb.ConversionException as error:
        raise AnalysisInputError(f"a metric column of {table} is not numeric: {error}") from None
    desc = [d[0] for d in con.description or []]
    records = [dict(zip(desc, r, strict=True)) for r in rows]
    units = {str(r["__variant"]): int(r["__units"]) for r in records}
    out: list[MetricStats] = []
    for i, m in enumerate(metrics):
        arms = {
            str(r["__variant"]): ArmStats(
                n=int(r[f"m{i}__n"]),
                sum=float(r[f"m{i}__sum"]),
                sum_sq=float(r[f"m{i}__sum_sq"]),
                sum_x=float(r.get(f"m{i}__sum_x", 0.0)),
                sum_x_sq=float(r.get(f"m{i}__sum_x_sq", 0.0)),
                sum_xy=float(r.get(f"m{i}__sum_xy", 0.0)),
                has_covariate=covariate is not None,
            )
            for r in records
        }
        binary = all(bool(r[f"m{i}__binary"]) for r in records)
        n_missing = sum(units.values()) - sum(a.n for a in arms.values())
        out.append(MetricStats(name=m, binary=binary, arms=arms, n_missing=n_missing))
    return out, units


def analyze_workspace_experiment(
    con: duckdb.DuckDBPyConnection,
    experiment_id: str,
    *,
    alpha: float = 0.05,
    expected_split: Mapping[str, float] | None = None,
    min_units: int = 100,
    min_conversions: int = 10,
) -> ExperimentResult:
    """Analyse an experiment stored in the workspace's ``experiments`` tables.

    Reads the experiment's row in ``experiments`` (control variant, comma-separated
    metric columns) and aggregates ``experiment_units`` in DuckDB. Uses CUPED when any
    unit has a ``pre_period`` value (units without one are left out and counted), and
    adds ROI when units carry ``cost`` or a ``revenue`` value.

    Args:
        con: Connection to the workspace.
        experiment_id: The experiment to analyse.
        alpha: 1 − confidence level.
        expected_split: Planned share per variant; equal split when None.
        min_units: See :func:`analyze_stats`.
        min_conversions: See :func:`analyze_stats`.

    Returns:
        The analysis, with ``experiment_id`` set.

    Raises:
        AnalysisInputError: Unknown experiment, no units, unknown metric columns.
    """
    row = con.execute(
        "SELECT control_variant, metrics, started_at, ended_at FROM experiments "
        "WHERE experiment_id = ?",
        [experiment_id],
    ).fetchone()
    if row is None:
        known = [
            r[0]
            for r in con.execute(
                "SELECT experiment_id FROM experiments ORDER BY 1 LIMIT 20"
            ).fetchall()
        ]
        raise AnalysisInputError(
            f"experiment {experiment_id!r} is not in the workspace; known experiments: {known}"
        )
    control, metric_text, started_at, ended_at = row
    metrics = [m.strip() for m in str(metric_text).split(",") if m.strip()]
    if not metrics:
        raise AnalysisInputError(
            f"experiment {experiment_id!r} lists no metrics (got {metric_text!r}); "
            "set experiments.metrics to a comma-separated list of experiment_units columns"
        )
    usable = [
        c
        for c in _table_columns(con, "experiment_units")
        if c not in {"experiment_id", "unit_id", "variant"}
    ]
    for m in metrics:
        if m not in usable:
            raise AnalysisInputError(
                f"experiment {experiment_id!r} names metric {m!r}, which is not a column of "
                f"experiment_units (columns: {usable})"
            )
    n_units, n_pre, n_cost, n_rev = con.execute(
        "SELECT count(*), count(pre_period), count(cost), count(revenue) FROM experiment_units "
        "WHERE experiment_id = ?",
        [experiment_id],
    ).fetchone() or (0, 0, 0, 0)
    if not n_units:
        raise AnalysisInputError(f"experiment {experiment_id!r} has no rows in experiment_units")
    covariate = "pre_period" if n_pre else None
    revenue = "revenue" if n_rev else None
    all_metrics = list(dict.fromkeys([*metrics, *([revenue] if revenue else [])]))
    stats, units = stats_from_duckdb(
        con,
        "experiment_units",
        "variant",
        all_metrics,
        covariate,
        "experiment_id = ?",
        [experiment_id],
    )
    result = analyze_stats(
        stats,
        str(control),
        unit_counts=units,
        expected_split=expected_split,
        alpha=alpha,
        min_units=min_units,
        min_conversions=min_conversions,
        experiment_id=experiment_id,
    )
    if not (n_cost or revenue):
        return result
    cost_by_variant = None
    if n_cost:
        means = dict(
            con.execute(
                "SELECT variant, avg(coalesce(cost, 0)) FROM experiment_units "
                "WHERE experiment_id = ? GROUP BY 1",
                [experiment_id],
            ).fetchall()
        )
        cost_by_variant = {
            v: float((means[v] - means[control]) * units[v]) for v in units if v != control
        }
    duration = None
    if started_at is not None and ended_at is not None:
        duration = (ended_at - started_at).total_seconds() / 86400.0
    conv = (
        "converted"
        if "converted" in metrics
        else next((m.name for m in result.metrics if m.kind == "binary"), None)
    )
    roi = compute_roi(
        result,
        conversion_metric=conv,
        revenue_metric=revenue,
        cost_by_variant=cost_by_variant,
        duration_days=duration,
    )
    return dataclasses.replace(result, roi=roi)
