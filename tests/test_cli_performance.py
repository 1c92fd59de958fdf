"""`beacon posts top`, `beacon campaigns report`, `beacon compare` and `beacon experiment plan`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from beacon.cli import app
from foundation.settings import get_settings
from tests.conftest import DemoWorkspace

OCTOBER = "2026-10-01 to 2026-10-31"


@pytest.fixture
def demo_home(
    demo_copy: DemoWorkspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[DemoWorkspace]:
    monkeypatch.setenv("BEACON_HOME", str(tmp_path))
    monkeypatch.setenv("BEACON_WORKSPACE", str(demo_copy.workspace.path))
    get_settings.cache_clear()
    yield demo_copy
    get_settings.cache_clear()


def invoke(*args: str) -> tuple[int, Any, str]:
    result = CliRunner().invoke(app, list(args))
    out = json.loads(result.stdout) if result.exit_code == 0 and "--json" in args else result.stdout
    return result.exit_code, out, result.stderr


def test_every_new_command_has_help() -> None:
    for command in (["posts", "top"], ["campaigns", "report"], ["compare"], ["experiment", "plan"]):
        code, out, _ = invoke(*command, "--help")
        assert code == 0 and "Usage" in out


def test_posts_top(demo_home: DemoWorkspace) -> None:
    code, out, _ = invoke("posts", "top", "--period", OCTOBER, "--platform", "instagram", "--json")
    assert code == 0 and out["ranked"] == 31 and out["requested"] == 3
    assert [p["post_id"] for p in out["posts"]] == ["ig-000131", "ig-000147", "ig-000149"]
    code, out, _ = invoke(
        "posts", "top", "--period", OCTOBER, "--metric", "likes", "--worst", "-n", "2", "--json"
    )
    assert code == 0 and out["worst"] and len(out["posts"]) == 2
    assert out["posts"][0]["likes"] <= out["posts"][1]["likes"]
    code, _, err = invoke("posts", "top", "--metric", "reach")
    assert code == 2 and err.startswith("error: metric must be one of")


def test_campaigns_report(demo_home: DemoWorkspace) -> None:
    code, out, _ = invoke("campaigns", "report", "--today", "2026-11-30", "--json")
    assert code == 0
    assert [c["campaign"]["campaign_id"] for c in out["campaigns"]] == [
        "summer-sprint",
        "back-to-trail",
        "holiday-gifts",
    ]
    code, out, _ = invoke("campaigns", "report", "holiday", "--today", "2026-11-30", "--json")
    assert code == 0 and out["status"] == "running" and len(out["experiments"]) == 3
    assert out["attribution"]["experiments"] == ["exp-button-colour", "exp-subject-line"]
    code, _, err = invoke("campaigns", "report", "spring sale")
    assert code == 2 and err.startswith("error: I can't tell which campaign 'spring sale' is")


def test_compare(demo_home: DemoWorkspace) -> None:
    code, out, _ = invoke(
        "compare", "--metric", "engagement", "--platforms", "instagram,twitter",
        "--period", OCTOBER, "--json",
    )  # fmt: skip
    assert code == 0 and out["difference"]["significant"] and out["left"]["label"] == "Instagram"
    code, out, _ = invoke(
        "compare", "--periods", "2026-11-01 to 2026-11-30,2026-10-01 to 2026-10-31",
        "--platform", "twitter", "--json",
    )  # fmt: skip
    assert code == 0 and out["metric"] == "sentiment"
    assert out["differences"]["negative"]["points"] < 0  # October holds the planted spike
    code, _, err = invoke("compare", "--platforms", "instagram")
    assert code == 2 and err.startswith("error: --platforms takes two values")
    code, _, err = invoke("compare")
    assert code == 2 and "exactly one of --platforms a,b or --periods p1,p2" in err


def test_experiment_plan(demo_home: DemoWorkspace) -> None:
    code, out, _ = invoke("experiment", "plan", "--lift", "0.1", "--json")
    assert code == 0 and out["baseline_from"]["experiment_id"] == "exp-subject-line"
    assert out["days"] == 90 and out["power"]["n_control"] == 51_222
    code, out, _ = invoke("experiment", "plan", "--points", "2", "--baseline", "0.04", "--json")
    assert code == 0 and out["power"]["n_control"] == 1_861 and out["baseline_from"] is None
    code, _, err = invoke("experiment", "plan", "--lift", "0.1", "--points", "2")
    assert code == 2 and "exactly one of --lift, --points or --days" in err
