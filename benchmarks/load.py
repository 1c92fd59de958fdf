"""Staff users at once, no think time, with and without a batch job writing the workspace.

    python -m benchmarks.load [--users 1,10,20] [--turns 25] [--batch-posts 8000]

Starts the real stack (action server + Rasa) on free loopback ports over a fresh demo
workspace. Each level runs ``users`` staff conversations at once over REST, each
asking ``--turns`` varied analytics questions back to back. Every level runs twice:
on a quiet workspace, and while ``beacon ingest`` + ``beacon score`` load
``--batch-posts`` new posts into the same workspace in another process (the real
CLI, the real encoder). The baseline, measured in the same run at the top level, is
a Rasa-only turn ("thanks"): it shows what the action server adds. A turn counts as
an error when the HTTP call fails, times out, or the reply says the workspace was
busy or the action server didn't answer.

Prints a table, writes docs/benchmarks/load.json and renders docs/benchmarks/load.md
(``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from beacon.demo import build_demo
from beacon.scoring import current_scorer, score_posts
from beacon.stack import Stack, StackConfig, ensure_model, free_port
from benchmarks._report import Run, add_out_argument, bot_packages, percentile
from foundation.settings import Settings, get_settings
from foundation.workspace import Pseudonymizer, Workspace
from foundation.workspace._store import BUSY_MESSAGE
from knowledge import build_index

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TURN_TIMEOUT_S = 60.0
#: The issue's target for 20 staff users with no think time.
TARGET_P95_MS = 3000.0
STAFF_TOKEN = "bench-load"
DOWN = "isn't answering right now"
#: Varied analytics questions (sentiment, anomalies, experiments, posts, campaigns,
#: creators, comparisons, sample size, help, documents) asked in a shuffled order.
QUESTIONS = (
    "how is sentiment on twitter this month?",
    "how is sentiment on instagram last week?",
    "what's the mood on facebook this month?",
    "any unusual spikes lately?",
    "anything odd on instagram in the last 14 days?",
    "did the subject-line test win?",
    "how is the banner test doing?",
    "what were our top instagram posts last month?",
    "which facebook posts did worst this month?",
    "how did the summer sprint campaign do?",
    "what was the ROI of our campaigns?",
    "who are the best creators for a trail running launch?",
    "instagram vs facebook sentiment this month",
    "how long must a test run to see a 10% lift?",
    "what can you do?",
    "what does the brand voice guide say about humour?",
    "how is sentiment on twitter last week?",
    "any anomalies on facebook this month?",
    "show me our best twitter posts this month",
    "compare twitter and instagram sentiment last month",
)
BASELINE = "thanks"


@dataclass(frozen=True)
class LevelResult:
    """One level: ``users`` conversations at once, with or without the batch job."""

    kind: str
    users: int
    batch_job: bool
    turns: int
    errors: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    wall_s: float
    turns_per_s: float
    error_kinds: dict[str, int]


Timing = float | str  # a latency in ms, or the kind of failure


async def staff_user(
    client: httpx.AsyncClient, bot_url: str, texts: list[str], by_question: dict[str, list[float]]
) -> list[Timing]:
    """One staff conversation; one timing per turn (successful ones also by question)."""
    sender = f"bench-load-{uuid.uuid4().hex[:10]}"
    timings: list[Timing] = []
    for text in texts:
        start = time.perf_counter()
        try:
            reply = await client.post(
                f"{bot_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
        except httpx.TimeoutException:
            timings.append("timeout")
            continue
        except httpx.HTTPError as error:
            timings.append(type(error).__name__)
            continue
        said = " ".join(m.get("text") or "" for m in reply.json()) if reply.is_success else ""
        if reply.status_code != 200:
            timings.append(f"http {reply.status_code}")
        elif not said.strip():
            timings.append("no reply")
        elif BUSY_MESSAGE in said:
            timings.append("workspace busy")
        elif DOWN in said:
            timings.append("actions down")
        else:
            elapsed_ms = 1000 * (time.perf_counter() - start)
            timings.append(elapsed_ms)
            by_question.setdefault(text, []).append(elapsed_ms)
    return timings


async def run_level(
    kind: str,
    users: int,
    turns: int,
    bot_url: str,
    batch_job: bool,
    seed: int,
    by_question: dict[str, list[float]] | None = None,
) -> LevelResult:
    """All ``users`` ask ``turns`` questions each, at once."""
    rng = random.Random(seed)
    plans = [
        [BASELINE] * turns if kind == "rasa-only" else rng.choices(QUESTIONS, k=turns)
        for _ in range(users)
    ]
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=TURN_TIMEOUT_S, limits=limits, headers=headers) as client:
        per_user = await asyncio.gather(
            *(
                staff_user(client, bot_url, plan, {} if by_question is None else by_question)
                for plan in plans
            )
        )
    wall = time.perf_counter() - start
    timings = [t for user in per_user for t in user]
    ok = [t for t in timings if isinstance(t, float)]
    kinds: dict[str, int] = {}
    for t in timings:
        if isinstance(t, str):
            kinds[t] = kinds.get(t, 0) + 1
    return LevelResult(
        kind=kind,
        users=users,
        batch_job=batch_job,
        turns=len(timings),
        errors=len(timings) - len(ok),
        p50_ms=round(percentile(ok, 0.5), 1),
        p95_ms=round(percentile(ok, 0.95), 1),
        max_ms=round(max(ok, default=float("nan")), 1),
        wall_s=round(wall, 2),
        turns_per_s=round(len(ok) / wall, 2),
        error_kinds=kinds,
    )


def batch_posts_file(path: Path, n: int) -> Path:
    """``n`` new canonical posts (varied texts), for the batch job to ingest and score."""
    rng = random.Random(7)
    words = [
        "love",
        "hate",
        "new",
        "shoes",
        "trail",
        "run",
        "delivery",
        "late",
        "great",
        "comfy",
        "broke",
        "refund",
        "sale",
        "summer",
        "hike",
        "grip",
        "sole",
        "wet",
        "mud",
        "fast",
        "size",
        "fit",
        "colour",
        "price",
        "store",
        "app",
    ]
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=20)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["platform", "account", "text", "posted_at", "likes", "comments", "shares"])
        for i in range(n):
            text = " ".join(rng.choices(words, k=rng.randint(5, 25))) + f" #{i}"
            posted = start + timedelta(minutes=3 * i)
            writer.writerow(["twitter", f"batch_user_{i % 500}", text, posted.isoformat(), 1, 0, 0])
    return path


def start_batch_job(settings: Settings, posts: Path, log: Path) -> subprocess.Popen[bytes]:
    """``beacon ingest`` then ``beacon score`` in another process, on the same workspace."""
    beacon = shlex.quote(str(Path(sys.executable).with_name("beacon")))
    env = {
        **os.environ,
        "BEACON_HOME": str(settings.home),
        "BEACON_WORKSPACE": str(settings.workspace_path),
    }
    script = f"{beacon} ingest {shlex.quote(str(posts))} --json && {beacon} score --json"
    with log.open("wb") as output:
        return subprocess.Popen(
            ["bash", "-c", script], cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output
        )


def measure(levels: list[int], turns: int, batch_posts: int) -> dict[str, Any]:
    """Start the stack, run every level quiet and with the batch job, and the baseline."""
    model, _ = ensure_model(get_settings())
    results: list[LevelResult] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        workspace = Workspace(home / "beacon.duckdb")
        build_demo(workspace, Pseudonymizer(b"bench"), end_date=datetime.now(UTC).date())
        score_posts(workspace, current_scorer())
        build_index(PROJECT_ROOT / "data" / "knowledge", home / "knowledge")
        settings = Settings(
            home=home, workspace_path=workspace.path, data_dir=None, staff_token=STAFF_TOKEN
        )
        config = StackConfig(
            settings=settings, bot_port=free_port(), action_port=free_port(), log_dir=home / "logs"
        )
        print(
            f"{'kind':10} {'users':>5} {'batch':>5} {'turns':>6} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'max ms':>8} {'turns/s':>8}  errors"
        )
        with Stack(config, model) as stack:
            url = stack.config.bot_url
            asyncio.run(run_level("analytics", 2, 10, url, False, seed=0))  # warm-up
            top = max(levels)
            by_question: dict[str, list[float]] = {}
            for n, users in enumerate(levels):
                for batch_job in (False, True):
                    job = None
                    if batch_job:
                        posts = batch_posts_file(home / f"batch-{n}.csv", batch_posts)
                        job = start_batch_job(settings, posts, home / f"batch-{n}.log")
                        time.sleep(2.0)  # the job is reading its file and loading the encoder
                    per_question = by_question if users == top and not batch_job else None
                    result = asyncio.run(
                        run_level("analytics", users, turns, url, batch_job, n, per_question)
                    )
                    job_still_running = job is not None and job.poll() is None
                    if job is not None:
                        job.wait(timeout=900)
                        if job.returncode != 0:
                            log = (home / f"batch-{n}.log").read_text(errors="replace")
                            raise RuntimeError(f"the batch job failed:\n{log[-2000:]}")
                    results.append(result)
                    print(
                        _row(result)
                        + ("" if not batch_job or job_still_running else "  (job ended first)")
                    )
            baseline = asyncio.run(run_level("rasa-only", top, turns, url, False, seed=99))
            results.append(baseline)
            print(_row(baseline))
    return {
        "users": levels,
        "turns_per_user": turns,
        "batch_posts": batch_posts,
        "questions": list(QUESTIONS),
        "baseline_text": BASELINE,
        "turn_timeout_s": TURN_TIMEOUT_S,
        "target_p95_ms": TARGET_P95_MS,
        "levels": [asdict(r) for r in results],
        "by_question": [
            {
                "question": question,
                "turns": len(ms),
                "p50_ms": round(percentile(ms, 0.5), 1),
                "max_ms": round(max(ms), 1),
            }
            for question, ms in sorted(
                by_question.items(), key=lambda item: -percentile(item[1], 0.5)
            )
        ],
        "bot_packages": bot_packages(),
    }


def _row(r: LevelResult) -> str:
    return (
        f"{r.kind:10} {r.users:5d} {'yes' if r.batch_job else 'no':>5} {r.turns:6d} "
        f"{r.p50_ms:8.1f} {r.p95_ms:8.1f} {r.max_ms:8.1f} {r.turns_per_s:8.2f}  "
        f"{r.errors} {json.dumps(r.error_kinds) if r.error_kinds else ''}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", default="1,10,20", help="concurrent staff users per level")
    parser.add_argument("--turns", type=int, default=25, help="questions per user (25)")
    parser.add_argument(
        "--batch-posts", type=int, default=8000, help="posts the batch job ingests and scores"
    )
    add_out_argument(parser, "load", "--json")
    args = parser.parse_args()
    levels = [int(n) for n in args.users.split(",") if n.strip()]
    with Run("load", out=args.out, packages=("httpx", "duckdb", "rasa-sdk")) as run:
        run.results = measure(levels, args.turns, args.batch_posts)


if __name__ == "__main__":
    main()
