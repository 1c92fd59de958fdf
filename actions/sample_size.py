"""``ask_sample_size`` → :class:`ActionSampleSize`: units and days a test needs, with its assumptions."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import BeaconAction, Events
from actions.context import LastAnswer, last_answer, latest_text, remember
from actions.questions import PowerQuestion, read_power_question
from actions.services import Services
from analytics.experiments import RATE_METRICS, TestPlan, WorkspaceTest, plan_test
from analytics.periods import format_range

SOURCE = "Source: the two-sample power formula of `beacon experiment power`"


def _rate(value: float) -> str:
    return f"{100 * value:.2f}".rstrip("0").rstrip(".") + "%"


def _from_test(test: WorkspaceTest) -> str:
    when = f", {format_range(test.started, test.ended)}" if test.started and test.ended else ""
    return f"the {test.name} ({test.experiment_id}{when})"


def format_plan(plan: TestPlan) -> str:
    """The reply to "how long must the test run ...?": units, days and every assumption."""
    result = plan.power
    metric = RATE_METRICS.get(plan.metric, plan.metric)
    target = result.baseline + result.mde_abs
    relative = f", {100 * result.mde_rel:+.0f}%" if result.mde_rel is not None else ""
    effect = (
        f"{100 * result.mde_abs:+.2f} points in {metric} "
        f"({_rate(result.baseline)} → {_rate(target)}{relative})"
    )
    odds = f"{100 * result.power:.0f}% power, {100 * result.alpha:g}% significance (two-sided)"
    lines: list[str] = []
    if plan.days_given is not None:
        lines.append(
            f"In {plan.days_given} days at about {plan.daily_units:,.0f} units a day "
            f"({result.n_control:,} per variant), a test can detect {effect} with {odds}; "
            "a smaller real lift would often be missed."
        )
    else:
        lines.append(f"To detect {effect} with {odds}:")
        lines.append(
            f"• {result.n_control:,} units per variant, {result.n_total:,} in total "
            "(two equal groups)."
        )
        if plan.days is not None and plan.daily_units:
            weeks = f" (about {plan.days / 7:.0f} weeks)" if plan.days >= 14 else ""
            lines.append(
                f"• At about {plan.daily_units:,.0f} units a day, that is {plan.days:,} days{weeks}."
            )
        else:
            lines.append(
                "• Tell me the daily traffic ('with 2,000 visitors a day') and I'll turn that into days."
            )
    assumptions = []
    if plan.baseline_from is not None:
        assumptions.append(
            f"the baseline {metric} is the control group's in {_from_test(plan.baseline_from)}, "
            f"{_rate(plan.baseline_from.control_rate)} over {plan.baseline_from.control_units:,} units"
        )
    else:
        assumptions.append(f"the baseline {metric} is {_rate(result.baseline)}, as you said")
    if plan.traffic_from is not None and plan.daily_units:
        which = (
            "the same test"
            if plan.traffic_from == plan.baseline_from
            else _from_test(plan.traffic_from)
        )
        assumptions.append(
            f"the daily traffic is what {which} enrolled per day (both groups), "
            f"{plan.daily_units:,.0f} units"
        )
    elif plan.daily_units:
        assumptions.append(f"the daily traffic is {plan.daily_units:,.0f} units, as you said")
    assumptions.append(
        f"{100 * result.power:.0f}% power means a real effect of that size is found "
        f"{round(10 * result.power)} times in 10"
    )
    assumptions.append(
        "one look at the end (peeking early needs a sequential test), equal split, a z-test on the rate"
    )
    lines.append("Assumptions: " + "; ".join(assumptions) + ".")
    source = SOURCE + (
        ", with the workspace's experiments." if plan.baseline_from or plan.traffic_from else "."
    )
    lines.append(source)
    return "\n".join(lines)


class ActionSampleSize(BeaconAction):
    """Units per variant, in total and in days, to detect an effect (or the smallest effect in N days)."""

    action_name = "action_sample_size"

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, services: Services
    ) -> Events:
        text = latest_text(tracker)
        previous = last_answer(tracker)
        # "and with 90% power?": what the question doesn't say is the plan just answered.
        kept = previous.params if previous is not None and previous.kind == "sample_size" else None
        asked: PowerQuestion = read_power_question(text, kept)
        with services.workspace.connect(read_only=True) as con:
            plan = plan_test(
                con,
                effect=asked.effect,
                relative=asked.relative,
                metric=asked.metric,
                baseline=asked.baseline,
                daily_units=asked.daily_units,
                days=asked.days if asked.effect is None else None,
                alpha=asked.alpha,
                power=asked.power,
            )
            reply = format_plan(plan)
            params = {
                "effect": asked.effect,
                "relative": asked.relative,
                "baseline": asked.baseline,
                "metric": asked.metric,
                "power": asked.power,
                "alpha": asked.alpha,
                "daily_units": asked.daily_units,
                "days": asked.days,
            }
            sources = [
                f"experiment:{test.experiment_id}"
                for test in {plan.baseline_from, plan.traffic_from}
                if test is not None
            ]
            audit_id = services.workspace.record_audit(
                kind="sample_size",
                inputs=params,
                sources=sorted(sources) or ["question"],
                output={"reply": reply, "plan": plan.to_dict()},
                conversation_id=tracker.sender_id,
            )
        dispatcher.utter_message(text=reply)
        return [remember(LastAnswer("sample_size", params=params, audit_id=audit_id))]
