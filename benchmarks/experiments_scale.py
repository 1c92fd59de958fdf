"""Experiment analysis at scale: sufficient statistics in DuckDB SQL vs a pandas groupby.

Run: ``python -m benchmarks.experiments_scale [--rows 10000000] [--out FILE]``.

Generates a three-arm experiment table (binary ``converted``, continuous ``revenue``,
pre-period covariate ``pre``) inside DuckDB, then times, in the same run:

1. DuckDB: one SQL scan computing every per-variant sufficient statistic (n, Σy, Σy²,
   Σx, Σx², Σxy) → :func:`analyze_stats` (z-test, Welch, CUPED, Bayes, mSPRT, Holm).
2. pandas: the same table fetched into a DataFrame (fetch timed separately), a
   ``groupby().agg`` of the same sums → the same :func:`analyze_stats`.

Both paths must give the same lifts; the script checks that, writes the numbers to
docs/benchmarks/experiments_scale.json and renders docs/benchmarks/experiments_scale.md.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import duckdb
import pandas as pd

from analytics.experiments import ArmStats, MetricStats, analyze_stats, stats_from_duckdb
from benchmarks._report import Run, add_out_argument

#: The simulated truth that GENERATE plants (the sanity check reads the lifts against it).
BASE_CONVERSION = 0.050
TRUE_CONVERSION_LIFT_A = 0.002
TRUE_REVENUE_LIFT_B = 0.3

GENERATE = f"""
CREATE OR REPLACE TABLE units AS
WITH base AS (
    SELECT i,
           CASE i % 3 WHEN 0 THEN 'control' WHEN 1 THEN 'A' ELSE 'B' END AS variant,
           sqrt(-2 * ln(greatest(random(), 1e-12))) * cos(2 * pi() * random()) AS z1,
           sqrt(-2 * ln(greatest(random(), 1e-12))) * cos(2 * pi() * random()) AS z2,
           random() AS u
    FROM range(?) t(i)
)
SELECT i AS unit_id, variant,
       50 + 10 * z1 AS pre,
       CAST(u < CASE variant WHEN 'A' THEN {BASE_CONVERSION + TRUE_CONVERSION_LIFT_A:.6f} ELSE {BASE_CONVERSION} END AS DOUBLE) AS converted,
       greatest(0, 0.4 * (50 + 10 * z1) + 8 * z2 + CASE variant WHEN 'B' THEN {TRUE_REVENUE_LIFT_B} ELSE 0 END)
           AS revenue
FROM base
"""


def _pandas_stats(df: pd.DataFrame) -> tuple[list[MetricStats], dict[str, int]]:
    work = df.assign(
        converted_sq=df["converted"] ** 2,
        revenue_sq=df["revenue"] ** 2,
        pre_sq=df["pre"] ** 2,
        converted_xy=df["converted"] * df["pre"],
        revenue_xy=df["revenue"] * df["pre"],
    )
    agg = work.groupby("variant").agg(
        n=("pre", "size"),
        sum_x=("pre", "sum"),
        sum_x_sq=("pre_sq", "sum"),
        converted=("converted", "sum"),
        converted_sq=("converted_sq", "sum"),
        converted_xy=("converted_xy", "sum"),
        revenue=("revenue", "sum"),
        revenue_sq=("revenue_sq", "sum"),
        revenue_xy=("revenue_xy", "sum"),
        converted_binary=("converted", lambda s: bool(s.isin([0.0, 1.0]).all())),
    )
    out = []
    for metric in ("converted", "revenue"):
        arms = {
            str(v): ArmStats(
                n=int(r["n"]),
                sum=float(r[metric]),
                sum_sq=float(r[f"{metric}_sq"]),
                sum_x=float(r["sum_x"]),
                sum_x_sq=float(r["sum_x_sq"]),
                sum_xy=float(r[f"{metric}_xy"]),
                has_covariate=True,
            )
            for v, r in agg.iterrows()
        }
        binary = metric == "converted" and bool(agg["converted_binary"].all())
        out.append(MetricStats(metric, binary, arms))
    return out, {str(v): int(n) for v, n in agg["n"].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--threads", type=int, default=2)
    add_out_argument(parser, "experiments_scale")
    args = parser.parse_args()
    if args.out.suffix == ".md":  # older command lines named the page; the JSON goes beside it
        args.out = args.out.with_suffix(".json")
    with Run("experiments_scale", out=args.out, packages=("duckdb", "pandas", "numpy")) as run:
        run.results = measure(args.rows, args.threads)


def measure(rows: int, threads: int) -> dict[str, Any]:
    """Generate the table, then time both paths to the same analysis."""
    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    t0 = time.perf_counter()
    con.execute(GENERATE, [rows])
    gen_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    stats_db, units_db = stats_from_duckdb(con, "units", "variant", ["converted", "revenue"], "pre")
    sql_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    res_db = analyze_stats(stats_db, "control", unit_counts=units_db)
    analyze_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    df = con.execute("SELECT variant, pre, converted, revenue FROM units").df()
    fetch_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    stats_pd, units_pd = _pandas_stats(df)
    pandas_s = time.perf_counter() - t0
    res_pd = analyze_stats(stats_pd, "control", unit_counts=units_pd)

    for m in ("converted", "revenue"):
        for v in ("A", "B"):
            a, b = res_db.metric(m).variant(v), res_pd.metric(m).variant(v)
            assert a.abs_lift is not None and b.abs_lift is not None
            assert abs(a.abs_lift - b.abs_lift) <= 1e-9 * max(1.0, abs(a.abs_lift)), (m, v)
    duck_total = sql_s + analyze_s
    pandas_total = fetch_s + pandas_s + analyze_s
    steps = [
        ("duckdb_sql", "DuckDB SQL sufficient statistics (one scan)", sql_s),
        ("analysis", "analysis from sufficient statistics", analyze_s),
        ("duckdb_total", "DuckDB total (SQL + analysis)", duck_total),
        (
            "pandas_groupby",
            "pandas groupby of the same statistics (data already in memory)",
            pandas_s,
        ),
        ("pandas_fetch", "fetching the table into pandas (not needed by the DuckDB path)", fetch_s),
        ("pandas_total", "pandas total (fetch + groupby + analysis)", pandas_total),
    ]
    print(f"rows: {rows:,}; generated in DuckDB in {gen_s:.1f}s")
    for _, label, seconds in steps:
        print(f"{label:66s} {seconds:8.3f}s  {rows / seconds / 1e6:8.1f} M rows/s")
    print(
        f"DuckDB SQL vs pandas groupby: {pandas_s / sql_s:.1f}x; end to end: "
        f"{pandas_total / duck_total:.1f}x"
    )
    conv, rev = res_db.metric("converted"), res_db.metric("revenue")
    a, b = conv.variant("A"), rev.variant("B")
    assert a.abs_lift_ci is not None
    return {
        "rows": rows,
        "duckdb_threads": threads,
        "generate_s": gen_s,
        "steps": [
            {"step": key, "label": label, "seconds": seconds, "mrows_per_s": rows / seconds / 1e6}
            for key, label, seconds in steps
        ],
        "sql_vs_groupby": pandas_s / sql_s,
        "end_to_end": pandas_total / duck_total,
        "same_lifts_both_paths": True,  # asserted above
        "sanity": {
            "conversion_lift_a": a.abs_lift,
            "conversion_lift_a_ci95": list(a.abs_lift_ci),
            "conversion_lift_a_true": TRUE_CONVERSION_LIFT_A,
            "conversion_cuped_variance_reduction": conv.variance_reduction,
            "revenue_lift_b": b.abs_lift,
            "revenue_lift_b_true": TRUE_REVENUE_LIFT_B,
            "revenue_cuped_variance_reduction": rev.variance_reduction,
        },
    }


if __name__ == "__main__":
    main()
