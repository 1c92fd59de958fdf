"""action_anomalies finds the demo's planted spike and stays quiet in a normal month."""

from __future__ import annotations

import pytest

from actions.anomalies import ActionAnomalies
from actions.services import Services
from tests.actions.conftest import run_action
from tests.conftest import DemoWorkspace

pytestmark = pytest.mark.filterwarnings("ignore:You are using an old version of rasa")


def test_planted_spike_is_reported_with_its_cause(
    services: Services, demo_copy: DemoWorkspace
) -> None:
    text = run_action(ActionAnomalies(), "staff_anomalies_october.json").text
    spike = demo_copy.manifest["sentiment_spike"]
    assert "Negative talk on Twitter/X jumped" in text
    assert "21–23 Oct 2026" in text and spike["start"] == "2026-10-21"
    assert "'sole'" in text or "'peeling'" in text


def test_reply_carries_a_chart_of_what_moved(services: Services) -> None:
    run = run_action(ActionAnomalies(), "staff_anomalies_october.json")
    images = [m["image"] for m in run.messages if m.get("image")]
    assert len(images) == 1
    chart = services.charts.path_of(str(images[0]).rsplit("/", 1)[1])
    assert chart is not None and chart.read_bytes()[:4] == b"\x89PNG"
    with services.workspace.connect() as con:
        (sources,) = con.execute(
            "SELECT sources FROM audit WHERE kind = 'anomaly_check'"
        ).fetchone() or ("",)
    assert chart.name in sources


def test_normal_month_is_quiet(services: Services) -> None:
    text = run_action(ActionAnomalies(), "staff_anomalies_november.json").text
    assert text.startswith("Nothing unusual on")
