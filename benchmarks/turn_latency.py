"""How long a Beacon turn takes over REST, next to a turn that needs no custom action.

    python -m benchmarks.turn_latency [--turns 50]

Starts the real stack (action server + Rasa) on free loopback ports over a fresh
demo workspace, warms up, then sends sequential turns of three kinds in the same
run: a thank-you (Rasa only: NLU + policies + a response, the baseline), help (one
custom action, no analytics) and a sentiment question (custom action + DuckDB
query + formatting + audit). Prints p50/p95 per kind and the ratio to the
baseline, writes docs/benchmarks/turn_latency.json and renders
docs/benchmarks/turn_latency.md from it (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from beacon.chat import BotClient
from beacon.demo import build_demo
from beacon.scoring import current_scorer, score_posts
from beacon.stack import Stack, StackConfig, ensure_model, free_port
from benchmarks._report import Run, add_out_argument, bot_packages, percentile
from foundation.settings import Settings, get_settings
from foundation.workspace import Pseudonymizer, Workspace

KINDS = {
    # The greeting became a custom action (it differs per audience); thanks is still Rasa-only.
    "thanks (Rasa only, baseline)": "thanks!",
    "help (one custom action)": "what can you do?",
    "sentiment (action + DuckDB + audit)": "how is sentiment on twitter this month?",
}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--turns", type=int, default=50, help="turns per kind (default 50)")
    add_out_argument(parser, "turn_latency")
    args = parser.parse_args()
    with Run("turn_latency", out=args.out, packages=("rasa-sdk", "duckdb", "httpx")) as run:
        run.results = measure(args.turns)


def measure(turns: int) -> dict[str, Any]:
    """Start the stack over a fresh demo workspace, warm up, time ``turns`` turns per kind."""
    model, trained_now = ensure_model(get_settings())
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        workspace = Workspace(home / "beacon.duckdb")
        build_demo(workspace, Pseudonymizer(b"bench"), end_date=datetime.now(UTC).date())
        score_posts(workspace, current_scorer())
        settings = Settings(
            home=home, workspace_path=workspace.path, data_dir=None, staff_token="bench"
        )
        config = StackConfig(settings=settings, bot_port=free_port(), action_port=free_port())
        started = time.perf_counter()
        with (
            Stack(config, model) as stack,
            BotClient(stack.config.bot_url, staff_token="bench") as client,
        ):
            start_s = time.perf_counter() - started
            for text in KINDS.values():  # warm-up
                client.send("warm-up", text)
            results: dict[str, list[float]] = {}
            for kind, text in KINDS.items():
                timings = []
                for _ in range(turns):
                    start = time.perf_counter()
                    reply = client.send(f"bench-{uuid.uuid4().hex[:8]}", text)
                    timings.append(1000 * (time.perf_counter() - start))
                    assert reply, f"no reply to {text!r}"
                results[kind] = timings
    baseline = percentile(next(iter(results.values())), 0.5)
    rows = []
    print(f"{'turn':40} {'p50 ms':>8} {'p95 ms':>8} {'p50 vs baseline':>16}")
    for (kind, timings), text in zip(results.items(), KINDS.values(), strict=True):
        p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
        print(f"{kind:40} {p50:8.1f} {p95:8.1f} {p50 / baseline:15.2f}x")
        rows.append(
            {
                "kind": kind,
                "text": text,
                "p50_ms": round(p50, 1),
                "p95_ms": round(p95, 1),
                "max_ms": round(max(timings), 1),
                "p50_vs_baseline": p50 / baseline,
            }
        )
    return {
        "turns_per_kind": turns,
        "bot_packages": bot_packages(("rasa", "sanic")),
        "rasa_model": model.name,
        "rasa_model_trained_now": trained_now,
        "stack_start_s": round(start_s, 1),
        "rows": rows,
    }


if __name__ == "__main__":
    main()
