"""Planning a test: units and days to detect an effect, with defaults from the workspace.

:func:`sample_size` and :func:`minimum_detectable_effect` need a baseline rate; a day count
needs the daily traffic. A marketer asking in chat rarely gives both, so :func:`plan_test`
takes what is given and fills the rest from the workspace's own experiments, saying
where each number came from (:class:`TestPlan`):

- the **baseline** is the control arm's rate of the metric in the most recent experiment
  that measured it;
- the **daily traffic** is the units that experiment enrolled per day of its run (both
  arms together).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import duckdb

from analytics.exceptions import AnalysisInputError
from analytics.experiments._power import minimum_detectable_effect, sample_size
from analytics.experiments._types import PowerResult

#: Rate metrics of ``experiment_units`` a plan can be for, and how replies name them.
RATE_METRICS: Final = {"converted": "conversion rate", "clicked": "click rate"}


@dataclass(frozen=True)
class WorkspaceTest:
    """What one of the workspace's experiments says about a metric.

    Attributes:
        experiment_id: The experiment.
        name: Its name.
        started: First day (None when unknown).
        ended: Last day (None when unknown).
        control_rate: The control arm's mean of the metric.
        control_units: Units in the control arm with a value.
        units_per_day: All its units divided by the days it ran (None without dates).
    """

    experiment_id: str
    name: str
    started: date | None
    ended: date | None
    control_rate: float
    control_units: int
    units_per_day: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "started": None if self.started is None else self.started.isoformat(),
            "ended": None if self.ended is None else self.ended.isoformat(),
            "control_rate": self.control_rate,
            "control_units": self.control_units,
            "units_per_day": self.units_per_day,
        }


def latest_test(con: duckdb.DuckDBPyConnection, metric: str) -> WorkspaceTest | None:
    """The most recent experiment that measured ``metric`` (the largest when several end together).

    Returns:
        None when no experiment lists the metric or none has units.
    """
    if metric not in RATE_METRICS:
        raise AnalysisInputError(
            f"metric must be one of {', '.join(RATE_METRICS)} (got {metric!r})"
        )
    row = con.execute(
        f"""
        WITH units AS (
            SELECT experiment_id, count(*) AS n FROM experiment_units GROUP BY 1)
        SELECT e.experiment_id, e.name, e.started_at, e.ended_at, e.control_variant, u.n
        FROM experiments e JOIN units u USING (experiment_id)
        WHERE list_contains(string_split(replace(e.metrics, ' ', ''), ','), '{metric}')
        ORDER BY e.ended_at DESC NULLS LAST, u.n DESC, e.experiment_id
        LIMIT 1"""
    ).fetchone()
    if row is None:
        return None
    experiment_id, name, started, ended, control, units = row
    rate, control_units = con.execute(
        f"SELECT avg({metric}), count({metric}) FROM experiment_units "
        "WHERE experiment_id = ? AND variant = ?",
        [experiment_id, control],
    ).fetchone() or (None, 0)
    if rate is None or not control_units:
        return None
    per_day = None
    if started is not None and ended is not None and ended > started:
        per_day = float(units) / ((ended - started).total_seconds() / 86400.0)
    return WorkspaceTest(
        experiment_id=str(experiment_id),
        name=str(name),
        started=None if started is None else started.date(),
        ended=None if ended is None else ended.date(),
        control_rate=float(rate),
        control_units=int(control_units),
        units_per_day=per_day,
    )


@dataclass(frozen=True)
class TestPlan:
    """How many units, and how many days, a two-arm test needs.

    Attributes:
        metric: The rate metric (a key of :data:`RATE_METRICS`).
        power: The sample size (or, with ``days_given``, the minimum detectable effect)
            from :mod:`analytics.experiments._power`.
        baseline_from: The experiment the baseline came from, or None when it was given.
        daily_units: Units enrolled per day, both arms together (None when unknown).
        traffic_from: The experiment the daily traffic came from, or None when given.
        days: Days to enrol ``power.n_total`` units at ``daily_units`` (None without traffic).
        days_given: The run length asked about when the plan is for the smallest
            detectable effect in that many days (None when it is for a sample size).
    """

    metric: str
    power: PowerResult
    baseline_from: WorkspaceTest | None
    daily_units: float | None
    traffic_from: WorkspaceTest | None
    days: int | None
    days_given: int | None = None

    __test__ = False  # not a pytest class, whatever its name

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (the ``beacon experiment plan --json`` payload)."""
        return {
            "metric": self.metric,
            "power": self.power.to_dict(),
            "baseline_from": None if self.baseline_from is None else self.baseline_from.to_dict(),
            "daily_units": self.daily_units,
            "traffic_from": None if self.traffic_from is None else self.traffic_from.to_dict(),
            "days": self.days,
            "days_given": self.days_given,
        }


def plan_test(
    con: duckdb.DuckDBPyConnection | None,
    *,
    effect: float | None = None,
    relative: bool = True,
    metric: str = "converted",
    baseline: float | None = None,
    daily_units: float | None = None,
    days: int | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> TestPlan:
    """Units per variant, in total and in days, to detect ``effect`` on a rate; or the
    smallest effect detectable in ``days``.

    Two equal arms, a two-sided z-test on the rate (:func:`sample_size`). Whatever is not
    given comes from the workspace (:func:`latest_test`) and the plan says so.

    Args:
        con: Workspace connection, for the defaults (None: everything must be given).
        effect: The smallest effect worth detecting: relative (0.1 = +10%) or, with
            ``relative=False``, absolute (0.02 = 2 points). None with ``days`` asks for the
            minimum detectable effect instead.
        relative: Whether ``effect`` is relative to the baseline.
        metric: ``converted`` or ``clicked``: which workspace rate is the default baseline.
        baseline: The control rate, in (0, 1); None takes it from the workspace.
        daily_units: Units per day, both arms together; None takes them from the workspace.
        days: A run length, for the minimum detectable effect when ``effect`` is None.
        alpha: Two-sided significance level.
        power: Probability of detecting the effect.

    Raises:
        AnalysisInputError: Neither an effect nor a run length; no baseline to be had;
            out-of-range values (see :func:`sample_size`).
    """
    if effect is None and days is None:
        raise AnalysisInputError(
            "Tell me the smallest lift worth detecting, e.g. 'a 10% lift' or '2 points', "
            "or how long the test can run, e.g. 'in 14 days'."
        )
    if days is not None and days < 1:
        raise AnalysisInputError(f"days must be at least 1 (got {days})")
    if daily_units is not None and daily_units <= 0:
        raise AnalysisInputError(f"daily traffic must be positive (got {daily_units})")
    found = latest_test(con, metric) if con is not None else None
    baseline_from = None
    if baseline is None:
        if found is None:
            raise AnalysisInputError(
                f"I need the current {RATE_METRICS.get(metric, metric)} to plan the test, "
                "and no experiment in the workspace measured it; say it, e.g. 'on a 3% "
                "conversion rate'."
            )
        baseline, baseline_from = found.control_rate, found
    traffic_from = None
    if daily_units is None and found is not None and found.units_per_day:
        daily_units, traffic_from = found.units_per_day, found
    if effect is None:
        assert days is not None
        if daily_units is None:
            raise AnalysisInputError(
                "To say what a test of that length can detect I need the daily traffic; "
                "say it, e.g. 'with 2,000 visitors a day'."
            )
        per_arm = int(daily_units * days / 2)
        result = minimum_detectable_effect(baseline, per_arm, alpha=alpha, power=power)
        return TestPlan(
            metric, result, baseline_from, daily_units, traffic_from, days, days_given=days
        )
    result = sample_size(baseline, effect, relative=relative, alpha=alpha, power=power)
    needed = math.ceil(result.n_total / daily_units) if daily_units else None
    return TestPlan(metric, result, baseline_from, daily_units, traffic_from, needed)
