"""Test plans: sample size and days, with the baseline and traffic taken from the workspace."""

from __future__ import annotations

import math

import pytest

from analytics.exceptions import AnalysisInputError
from analytics.experiments import latest_test, minimum_detectable_effect, plan_test, sample_size
from tests.conftest import DemoWorkspace


def test_given_everything_it_is_the_power_formula() -> None:
    plan = plan_test(None, effect=0.02, relative=False, baseline=0.04, daily_units=500)
    assert plan.power == sample_size(0.04, 0.02)
    assert plan.days == math.ceil(plan.power.n_total / 500)
    assert plan.baseline_from is None and plan.traffic_from is None


def test_the_latest_test_gives_baseline_and_traffic(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        found = latest_test(con, "converted")
        plan = plan_test(con, effect=0.1)
        clicks = plan_test(con, effect=0.01, relative=False, metric="clicked", power=0.9)
        control = con.execute(
            "SELECT avg(converted) FROM experiment_units "
            "WHERE experiment_id = 'exp-subject-line' AND variant = 'plain'"
        ).fetchone()
    # The three demo tests end together; the largest (16,000 units over 14 days) is used.
    assert found is not None and found.experiment_id == "exp-subject-line"
    assert control is not None and found.control_rate == pytest.approx(control[0])
    assert found.units_per_day == pytest.approx(16_000 / 14)
    assert plan.baseline_from == found and plan.traffic_from == found
    assert plan.power == sample_size(found.control_rate, 0.1, relative=True)
    assert plan.days == math.ceil(plan.power.n_total / (16_000 / 14))
    assert clicks.metric == "clicked" and clicks.power.power == 0.9
    assert clicks.power.baseline == pytest.approx(0.124, abs=0.01)


def test_smallest_lift_in_a_given_number_of_days(demo: DemoWorkspace) -> None:
    with demo.workspace.connect(read_only=True) as con:
        plan = plan_test(con, days=14, daily_units=2000)
    assert plan.days_given == 14 and plan.traffic_from is None
    assert plan.baseline_from is not None
    assert plan.power == minimum_detectable_effect(plan.baseline_from.control_rate, 14_000)
    assert plan.to_dict()["power"]["n_control"] == 14_000


def test_what_is_missing_is_said(demo: DemoWorkspace) -> None:
    with pytest.raises(AnalysisInputError, match="Tell me the smallest lift worth detecting"):
        plan_test(None)
    with pytest.raises(AnalysisInputError, match="I need the current conversion rate"):
        plan_test(None, effect=0.1)
    with pytest.raises(AnalysisInputError, match="I need the daily traffic"):
        plan_test(None, days=14, baseline=0.03)
    with (
        pytest.raises(
            AnalysisInputError, match=r"metric must be one of converted, clicked \(got 'revenue'\)"
        ),
        demo.workspace.connect(read_only=True) as con,
    ):
        plan_test(con, effect=0.1, metric="revenue")
