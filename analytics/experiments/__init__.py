"""Experiment analysis for Beacon: A/B tests, CUPED, sequential tests, power, ROI and uplift.

The analysis core works from per-variant sufficient statistics (:class:`ArmStats`), so
pandas frames, CSV files, the DuckDB workspace and a ten-million-row DuckDB table all
feed the same code::

    from analytics.experiments import analyze_frame, describe_roi
    result = analyze_frame(df, "segment", "No E-Mail", ["visit", "conversion"],
                           revenue_col="spend", cost_per_unit=0.10)
    result.to_dict()            # the ``beacon experiment analyze --json`` payload
    describe_roi(result.roi[0], unit_noun="customers", conversion_noun="purchases")
"""

from analytics.experiments._analyze import (
    SRM_THRESHOLD,
    analyze_csv,
    analyze_frame,
    analyze_stats,
    coerce_metric,
    read_experiment_csv,
    srm_check,
    stats_from_frame,
)
from analytics.experiments._core import always_valid_p_values
from analytics.experiments._data import (
    UpliftData,
    artea_features,
    artea_uplift_data,
    hillstrom_features,
    hillstrom_uplift_data,
    load_artea,
    load_hillstrom,
)
from analytics.experiments._describe import describe_lifts
from analytics.experiments._duck import (
    analyze_workspace_experiment,
    stats_from_duckdb,
    sufficient_stats_sql,
)
from analytics.experiments._plan import (
    RATE_METRICS,
    TestPlan,
    WorkspaceTest,
    latest_test,
    plan_test,
)
from analytics.experiments._plot import plot_lifts
from analytics.experiments._power import minimum_detectable_effect, power_of_test, sample_size
from analytics.experiments._roi import compute_roi, describe_roi
from analytics.experiments._types import (
    ArmStats,
    ExperimentResult,
    MetricResult,
    MetricStats,
    PowerResult,
    RoiResult,
    SRMCheck,
    VariantResult,
)
from analytics.experiments._uplift import (
    ClassTransformationLearner,
    SegmentUplift,
    TargetingPlan,
    TLearner,
    UpliftCurve,
    UpliftEvaluation,
    XLearner,
    auuc_score,
    evaluate_uplift,
    qini_coefficient,
    qini_curve,
    rank_targets,
    uplift_by_segment,
    uplift_curve,
)

__all__ = [
    "RATE_METRICS",
    "SRM_THRESHOLD",
    "ArmStats",
    "ClassTransformationLearner",
    "ExperimentResult",
    "MetricResult",
    "MetricStats",
    "PowerResult",
    "RoiResult",
    "SRMCheck",
    "SegmentUplift",
    "TLearner",
    "TargetingPlan",
    "TestPlan",
    "UpliftCurve",
    "UpliftData",
    "UpliftEvaluation",
    "VariantResult",
    "WorkspaceTest",
    "XLearner",
    "always_valid_p_values",
    "analyze_csv",
    "analyze_frame",
    "analyze_stats",
    "analyze_workspace_experiment",
    "artea_features",
    "artea_uplift_data",
    "auuc_score",
    "coerce_metric",
    "compute_roi",
    "describe_lifts",
    "describe_roi",
    "evaluate_uplift",
    "hillstrom_features",
    "hillstrom_uplift_data",
    "latest_test",
    "load_artea",
    "load_hillstrom",
    "minimum_detectable_effect",
    "plan_test",
    "plot_lifts",
    "power_of_test",
    "qini_coefficient",
    "qini_curve",
    "rank_targets",
    "read_experiment_csv",
    "sample_size",
    "srm_check",
    "stats_from_duckdb",
    "stats_from_frame",
    "sufficient_stats_sql",
    "uplift_by_segment",
    "uplift_curve",
]
