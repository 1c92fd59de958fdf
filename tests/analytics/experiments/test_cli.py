"""``beacon experiment analyze | power | uplift`` through typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from beacon.cli._experiment import app

runner = CliRunner()


@pytest.fixture()
def csv_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 3000
    variant = np.array(["ctrl", "new"])[rng.integers(0, 2, n)]
    bought = rng.random(n) < np.where(variant == "new", 0.14, 0.10)
    df = pd.DataFrame(
        {
            "variant": variant,
            "bought": np.where(bought, "true", "false"),
            "clicked": np.where(rng.random(n) < 0.3, "TRUE", "FALSE"),
            "spend": bought * rng.gamma(2.0, 20.0, n),
            "pre": rng.normal(50, 10, n),
            "cost": np.where(variant == "new", 0.2, 0.0),
            "age": rng.integers(18, 70, n),
        }
    )
    path = tmp_path / "exp.csv"
    df.to_csv(path, index=False)
    return path


def test_analyze_json(csv_file: Path) -> None:
    result = runner.invoke(
        app,
        [
            "analyze",
            "--input",
            str(csv_file),
            "--variant-col",
            "variant",
            "--control",
            "ctrl",
            "--metric",
            "bought",
            "--metric",
            "clicked",
            "--covariate",
            "pre",
            "--cost-col",
            "cost",
            "--revenue-col",
            "spend",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload["srm"]) >= {"p_value", "warning"}
    new = payload["metrics"]["bought"]["variants"]["new"]
    assert payload["metrics"]["bought"]["cuped"] is True
    assert len(new["abs_lift_ci"]) == 2 and new["p_value_adjusted"] >= new["p_value"]
    assert set(payload["metrics"]) == {"bought", "clicked", "spend"}
    assert payload["roi"]["new"]["cost"] == pytest.approx(0.2 * payload["srm"]["observed"]["new"])


def test_analyze_table_and_plot(csv_file: Path, tmp_path: Path) -> None:
    png = tmp_path / "lifts.png"
    result = runner.invoke(
        app,
        [
            "analyze",
            "--input",
            str(csv_file),
            "--variant-col",
            "variant",
            "--control",
            "ctrl",
            "--metric",
            "bought",
            "--plot",
            str(png),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "bought (binary) vs ctrl" in result.stdout
    assert png.is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "missing.csv"], "experiment file not found"),
        (["--variant-col", "arm"], "unknown variant column 'arm'"),
        (["--control", "nobody"], "control 'nobody' is not a value of 'variant'"),
        (["--metric", "variant"], "metric column 'variant' must be numeric or boolean"),
        (["--metric", "nothing"], "unknown metric column 'nothing'"),
    ],
)
def test_analyze_bad_input_exits_2_with_one_line(
    csv_file: Path, args: list[str], message: str
) -> None:
    base = {
        "--input": str(csv_file),
        "--variant-col": "variant",
        "--control": "ctrl",
        "--metric": "bought",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    result = runner.invoke(app, ["analyze", *[x for kv in base.items() for x in kv]])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_power_command() -> None:
    result = runner.invoke(
        app, ["power", "--baseline", "0.05", "--mde", "0.1", "--relative", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["n_control"] > 30000 and payload["binary"] is True
    result = runner.invoke(app, ["power", "--baseline", "0.05", "--n-per-arm", "10000"])
    assert result.exit_code == 0 and "10,000 control" in result.stdout
    bad = runner.invoke(app, ["power", "--baseline", "0.05"])
    assert bad.exit_code == 2 and "exactly one of --mde" in bad.stderr


def test_uplift_command(csv_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "ranking.csv"
    result = runner.invoke(
        app,
        [
            "uplift",
            "--input",
            str(csv_file),
            "--treatment-col",
            "variant",
            "--treatment",
            "new",
            "--control",
            "ctrl",
            "--outcome",
            "bought",
            "--features",
            "pre,age",
            "--learner",
            "ct",
            "--folds",
            "3",
            "--score",
            str(csv_file),
            "--output",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert len(payload["evaluation"]["qini"]) == 3
    assert len(pd.read_csv(out)) == 3000
