"""Time to first render of each dashboard view, next to a blank Streamlit page.

    python -m benchmarks.dashboard [--rounds 5]

Starts the staff dashboard (``dashboard/app.py``, as ``beacon serve`` does) on a free
loopback port over the configured workspace (``make demo`` builds the demo one), and
a one-line Streamlit page on another port as the baseline: what Streamlit itself costs
to deliver a page to a fresh browser. Then, in Debian's headless Chromium, each view
is opened from a signed link in a fresh browser context (a new session, as a click in
Slack gives), ``--rounds`` times in turn. A render is timed from the navigation until
the view's headline numbers are on screen, and until the page's
script has finished (every chart and table drawn). The first round after the server
starts is reported apart: it pays for loading the analytics modules once.

A **returning visit** is timed too: a new tab in a browser context that opened the
dashboard before, so Streamlit's scripts come from the browser's cache (they are
served with long-lived cache headers), as for a staff member who clicks Beacon's links
every day. Each view and the blank page get their own such context, warmed by one
untimed open.

Prints a table, writes docs/benchmarks/dashboard.json and renders
docs/benchmarks/dashboard.md from it (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from beacon.stack import Stack, StackConfig, free_port
from benchmarks._report import Run, add_out_argument, percentile
from foundation.settings import get_settings
from foundation.view_links import sign_link
from foundation.workspace import Workspace

#: The issue's target for every view's first render on 2 cores.
TARGET_S = 2.0
#: What each view shows first, and the filters its link carries.
VIEWS: dict[str, tuple[str, dict[str, str]]] = {
    "brand": ('[data-testid="stMetric"]', {}),
    "posts": ('[data-testid="stMetric"]', {}),
    "experiments": ('[data-testid="stMetric"]', {}),
    "creators": ('[data-testid="stMetric"]', {"brief": "trail running shoes"}),
    "support": ('[data-testid="stMetric"]', {}),
}
BASELINE_PAGE = 'import streamlit as st\nst.metric("baseline", "1")\n'
DONE = '[data-test-script-state="notRunning"]'
TIMEOUT_MS = 120_000


def _new_context(browser: Any) -> Any:
    return browser.new_context(viewport={"width": 1400, "height": 1000})


def _open(browser: Any, url: str, ready: str, context: Any = None) -> tuple[float, float]:
    """Seconds until ``ready`` shows and until the script finished, in a new tab of
    ``context`` (a returning visit), or of a fresh context when None (a first visit)."""
    fresh = context is None
    context = _new_context(browser) if fresh else context
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(ready, timeout=TIMEOUT_MS)
    first = time.perf_counter() - start
    page.wait_for_selector(DONE, state="attached", timeout=TIMEOUT_MS)
    done = time.perf_counter() - start
    page.close()
    if fresh:
        context.close()
    return first, done


def _summary(times: list[tuple[float, float]]) -> dict[str, float]:
    firsts, dones = [t[0] for t in times], [t[1] for t in times]
    return {
        "first_median_s": round(statistics.median(firsts), 3),
        "first_p95_s": round(percentile(firsts, 95), 3),
        "done_median_s": round(statistics.median(dones), 3),
        "done_p95_s": round(percentile(dones, 95), 3),
    }


def measure(rounds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    settings = get_settings()
    if not settings.workspace_path.is_file():
        raise SystemExit(
            f"no workspace at {settings.workspace_path}: run `make demo` first (or set "
            "BEACON_WORKSPACE)"
        )
    stack = Stack(StackConfig(settings=settings, dashboard_port=free_port()), Path())
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "baseline.py"
        page.write_text(BASELINE_PAGE)
        baseline_port = free_port()
        baseline = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(page),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(baseline_port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            stack.start_dashboard()
            base_url = stack.config.dashboard_url
            assert base_url is not None
            key = settings.dashboard_link_key()
            links = {
                view: sign_link(base_url, view, filters, key)
                for view, (_, filters) in VIEWS.items()
            }
            times: dict[str, list[tuple[float, float]]] = {view: [] for view in VIEWS}
            returning: dict[str, list[tuple[float, float]]] = {view: [] for view in VIEWS}
            base_times: list[tuple[float, float]] = []
            base_returning: list[tuple[float, float]] = []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", headless=True
                )
                cold = {view: _open(browser, links[view], VIEWS[view][0]) for view in VIEWS}
                _wait_for(f"http://127.0.0.1:{baseline_port}/_stcore/health")
                blank = (f"http://127.0.0.1:{baseline_port}/", '[data-testid="stMetric"]')
                _open(browser, *blank)
                # One context per page for returning visits, each warmed by an untimed open.
                visited = {view: _new_context(browser) for view in [*VIEWS, ""]}
                _open(browser, *blank, visited[""])
                for view, (ready, _) in VIEWS.items():
                    _open(browser, links[view], ready, visited[view])
                for n in range(rounds):
                    base_times.append(_open(browser, *blank))
                    base_returning.append(_open(browser, *blank, visited[""]))
                    for view, (ready, _) in VIEWS.items():
                        times[view].append(_open(browser, links[view], ready))
                        returning[view].append(_open(browser, links[view], ready, visited[view]))
                    print(f"round {n + 1}/{rounds} done", file=sys.stderr)
                browser.close()
        finally:
            stack.stop()
            baseline.terminate()
            baseline.wait(timeout=20)
    base = _summary(base_times)
    base_again = _summary(base_returning)
    rows = []
    for view, measured in times.items():
        summary = _summary(measured)
        again = _summary(returning[view])
        rows.append(
            {
                "view": view,
                **summary,
                "cold_first_s": round(cold[view][0], 3),
                "vs_baseline": round(summary["first_median_s"] / base["first_median_s"], 2),
                "meets_target": summary["first_p95_s"] <= TARGET_S,
                "returning_first_median_s": again["first_median_s"],
                "returning_first_p95_s": again["first_p95_s"],
                "returning_meets_target": again["first_p95_s"] <= TARGET_S,
            }
        )
    with Workspace(settings.workspace_path).connect(read_only=True) as con:
        (posts,) = con.execute("SELECT count(*) FROM posts").fetchone() or (0,)
    return {
        "rounds": rounds,
        "target_s": TARGET_S,
        "workspace_posts": posts,
        "baseline": base,
        "baseline_returning": base_again,
        "rows": rows,
    }


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the baseline Streamlit page did not start at {url}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5, help="renders per view")
    add_out_argument(parser, "dashboard", "--json")
    args = parser.parse_args()
    with Run("dashboard", out=args.out, packages=("streamlit", "altair", "duckdb")) as run:
        run.results = measure(args.rounds)
        base = run.results["baseline"]
        print(f"blank Streamlit page: {base['first_median_s']:.2f} s median")
        for row in run.results["rows"]:
            print(
                f"{row['view']:<12} first {row['first_median_s']:.2f} s "
                f"(p95 {row['first_p95_s']:.2f}, {row['vs_baseline']:.2f}× blank), "
                f"done {row['done_median_s']:.2f} s, cold {row['cold_first_s']:.2f} s, "
                f"returning {row['returning_first_median_s']:.2f} s "
                f"(p95 {row['returning_first_p95_s']:.2f})"
            )


if __name__ == "__main__":
    main()
