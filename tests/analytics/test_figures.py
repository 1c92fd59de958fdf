"""Charts drawn on matplotlib's ``Figure`` API: safe from many threads, never through pyplot."""

from __future__ import annotations

import ast
import io
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from PIL import Image

from analytics._figures import DPI, new_figure, png_bytes, save_png
from analytics.anomalies import AnomalyReport, DayCheck, plot_anomalies
from analytics.engagement._metrics import reliability_diagram
from analytics.listening import plot_sentiment_trend
from analytics.periods import Period
from tests.conftest import PROJECT_ROOT

#: Where the project's own code lives (tests may do as they like).
SOURCE_FOLDERS = ("foundation", "analytics", "knowledge", "beacon", "actions", "bot", "benchmarks")
COPIES = 2  # of each chart, all drawn at once


def _daily() -> pd.DataFrame:
    days = pd.date_range("2026-11-01", "2026-11-30", freq="D")
    rng = np.random.default_rng(0)
    counts = {
        label: rng.integers(0, 20, len(days)) for label in ("negative", "neutral", "positive")
    }
    return pd.DataFrame(counts, index=days)


def _report() -> AnomalyReport:
    start = date(2026, 10, 1)
    checks = []
    for i in range(30):
        day = start + timedelta(days=i)
        spike = i == 20
        for platform in ("twitter", "instagram"):
            usual = 10 + i % 7
            checks += [
                DayCheck(
                    day, platform, "volume", usual + 30 * spike, usual, 5 if spike else 0.3, 12
                ),
                DayCheck(day, platform, "negative share", 0.1 + 0.01 * (i % 3), 0.1, 0.2, 12),
            ]
    period = Period(start, start + timedelta(days=29), "October")
    return AnomalyReport(period, ("twitter", "instagram"), 4.0, 56, 3, checks=tuple(checks))


def _curves() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(1)
    p = rng.uniform(size=400)
    return {"member": ((rng.uniform(size=400) < p).astype(float), p)}


def _charts(folder: Path) -> dict[str, Callable[[str], bytes]]:
    """Each chart kind, drawn to a file named by the caller and read back."""

    def trend(name: str) -> bytes:
        return plot_sentiment_trend(_daily(), folder / f"{name}.png", "Sentiment").read_bytes()

    def anomalies(name: str) -> bytes:
        return plot_anomalies(_report(), folder / f"{name}.png", "Brand talk").read_bytes()

    def reliability(name: str) -> bytes:
        reliability_diagram(_curves(), str(folder / f"{name}.png"), "Reliability")
        return (folder / f"{name}.png").read_bytes()

    return {"trend": trend, "anomalies": anomalies, "reliability": reliability}


def test_charts_drawn_from_many_threads_at_once_match_one_drawn_alone(tmp_path: Path) -> None:
    charts = _charts(tmp_path)
    alone = {kind: draw(f"{kind}-alone") for kind, draw in charts.items()}
    jobs = [(kind, copy) for kind in charts for copy in range(COPIES)]
    start = threading.Barrier(len(jobs))

    def draw(job: tuple[str, int]) -> bytes:
        kind, copy = job
        start.wait(timeout=60)  # every thread draws at the same time
        return charts[kind](f"{kind}-{copy}")

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        drawn = dict(zip(jobs, pool.map(draw, jobs), strict=True))
    for (kind, _copy), png in drawn.items():
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            image.verify()  # a complete, uncorrupted PNG
        assert _size(png) == _size(alone[kind])
        assert png == alone[kind], f"{kind} drawn in a thread differs from one drawn alone"


def _line(width: float, height: float) -> Figure:
    figure = new_figure(width, height)
    figure.subplots().plot([0, 1], [1, 0])
    return figure


def _size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as image:
        return image.size


def test_a_figure_is_saved_at_its_size_in_inches_times_the_dpi(tmp_path: Path) -> None:
    path = save_png(_line(4, 2.5), tmp_path / "nested" / "line.png")
    assert _size(path.read_bytes()) == (4 * DPI, round(2.5 * DPI))
    assert path.read_bytes() == png_bytes(_line(4, 2.5))
    assert _size(png_bytes(_line(4, 2.5), dpi=50)) == (200, 125)


def _imported_modules(tree: ast.AST) -> set[str]:
    """Every module an ``import`` or ``from ... import`` in ``tree`` names, at any depth."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _imports_pyplot(tree: ast.AST) -> bool:
    return any(name.startswith("matplotlib.pyplot") for name in _imported_modules(tree))


@pytest.mark.parametrize(
    ("source", "imports"),
    [
        ("import matplotlib.pyplot as plt", True),
        ("from matplotlib import colormaps, pyplot", True),
        ("def f():\n    from matplotlib.pyplot import subplots", True),
        ("from matplotlib.figure import Figure", False),
    ],
)
def test_the_pyplot_check_sees_every_form_of_import(source: str, imports: bool) -> None:
    assert _imports_pyplot(ast.parse(source)) is imports


def test_no_project_module_imports_pyplot() -> None:
    sources = [path for folder in SOURCE_FOLDERS for path in (PROJECT_ROOT / folder).rglob("*.py")]
    assert len(sources) > 100  # the scan really reads the project
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in sources
        if _imports_pyplot(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    ]
    assert offenders == [], (
        "pyplot's global state is not thread-safe; draw on analytics._figures.new_figure()"
    )
