"""How a customer turn's latency grows with the conversation, and what the turn cap does.

    python -m benchmarks.long_conversation [--events 1000] [--turns 20]

Every turn Rasa loads the conversation's events and sends them all to the action
server, so a conversation that never ends makes each of its turns slower. The script
starts the real stack (action server + Rasa) over a fresh demo workspace with the
customer limits lifted, then times the same customer question (a help-pages answer,
one custom action) three ways in the same run:

1. in fresh conversations (about ten events each): the baseline;
2. in one conversation grown to ``--events`` events (counted in Rasa's tracker store);
3. in that same conversation after a fresh session starts, which is what the REST
   channel does once a customer conversation reaches ``BEACON_CUSTOMER_MAX_TURNS``.

It also reports how many events one such turn adds, which sizes the turn cap.
Prints a table, writes docs/benchmarks/long_conversation.json and renders the page.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
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
from bot._rate_limit import DEFAULT_MAX_TURNS
from foundation.settings import Settings, get_settings
from foundation.workspace import Pseudonymizer, Workspace
from knowledge import build_index

PROJECT_ROOT = Path(__file__).resolve().parents[1]
QUESTION = "what is your return policy?"
#: The customer limits, lifted so the benchmark can grow one conversation quickly.
UNLIMITED = {
    "BEACON_CUSTOMER_MESSAGES_PER_MINUTE": "100000",
    "BEACON_CUSTOMER_ADDRESS_MESSAGES_PER_MINUTE": "100000",
    "BEACON_CUSTOMER_GLOBAL_MESSAGES_PER_MINUTE": "100000",
    "BEACON_CUSTOMER_MESSAGES_PER_DAY": "100000",
    "BEACON_CUSTOMER_MAX_TURNS": "100000",
}


def _events(tracker_db: Path, sender: str, *, session_only: bool = False) -> int:
    """Events of ``sender`` in Rasa's tracker store (of its latest session only, if asked)."""
    query = "SELECT count(*) FROM events WHERE sender_id = ?"
    if session_only:
        query += (
            " AND id >= coalesce((SELECT max(id) FROM events WHERE sender_id = ?"
            " AND type_name = 'session_started'), 0)"
        )
    with sqlite3.connect(tracker_db) as con:
        args = [sender, sender] if session_only else [sender]
        return int(con.execute(query, args).fetchone()[0])


def _timed(client: BotClient, sender: str) -> float:
    start = time.perf_counter()
    reply = client.send(sender, QUESTION)
    elapsed = 1000 * (time.perf_counter() - start)
    assert reply, f"no reply to {QUESTION!r}"
    return elapsed


def _summary(kind: str, timings: list[float], events: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "events": events,
        "p50_ms": round(percentile(timings, 0.5), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "max_ms": round(max(timings), 1),
    }


def measure(target_events: int, turns: int) -> dict[str, Any]:
    """Start the stack, then time fresh, grown and restarted conversations."""
    model, trained_now = ensure_model(get_settings())
    saved = {name: os.environ.get(name) for name in UNLIMITED}
    os.environ.update(UNLIMITED)  # read by the REST channel when Rasa starts
    try:
        with tempfile.TemporaryDirectory() as tmp:
            home = Path(tmp)
            workspace = Workspace(home / "beacon.duckdb")
            build_demo(workspace, Pseudonymizer(b"b" * 32), end_date=datetime.now(UTC).date())
            score_posts(workspace, current_scorer())
            build_index(PROJECT_ROOT / "data" / "knowledge", home / "knowledge")
            settings = Settings(home=home, workspace_path=workspace.path, data_dir=None)
            tracker_db = home / "tracker.db"
            config = StackConfig(
                settings=settings,
                bot_port=free_port(),
                action_port=free_port(),
                tracker_db=tracker_db,
            )
            with Stack(config, model) as stack, BotClient(stack.config.bot_url) as client:
                client.send("warm-up", QUESTION)
                fresh = []
                fresh_events = []
                for _ in range(turns):
                    sender = f"fresh-{uuid.uuid4().hex[:8]}"
                    fresh.append(_timed(client, sender))
                    fresh_events.append(_events(tracker_db, "customer:" + sender))
                long_sender = f"long-{uuid.uuid4().hex[:8]}"
                grown_turns = 0
                started = time.perf_counter()
                while _events(tracker_db, "customer:" + long_sender) < target_events:
                    client.send(long_sender, QUESTION)
                    grown_turns += 1
                    if grown_turns % 25 == 0:
                        print(f"  grown {grown_turns} turns", flush=True)
                grow_s = time.perf_counter() - started
                events = _events(tracker_db, "customer:" + long_sender)
                grown = [_timed(client, long_sender) for _ in range(turns)]
                client.send(long_sender, "/session_start")  # what the turn cap sends
                restarted = [_timed(client, long_sender) for _ in range(turns)]
                session_events = _events(tracker_db, "customer:" + long_sender, session_only=True)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    events_per_turn = (events - fresh_events[0]) / max(1, grown_turns - 1)
    rows = [
        _summary("fresh conversation (baseline)", fresh, round(sum(fresh_events) / turns)),
        _summary(f"grown to {target_events}+ events", grown, events),
        _summary("same conversation after a fresh session", restarted, session_events),
    ]
    base = rows[0]["p50_ms"]
    print(f"{'conversation':42} {'events':>7} {'p50 ms':>8} {'p95 ms':>8} {'p50 vs base':>12}")
    for row in rows:
        row["p50_vs_baseline"] = row["p50_ms"] / base
        print(
            f"{row['kind']:42} {row['events']:7d} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} "
            f"{row['p50_vs_baseline']:11.2f}x"
        )
    print(f"events per turn: {events_per_turn:.1f}")
    return {
        "question": QUESTION,
        "turns_per_kind": turns,
        "target_events": target_events,
        "grown_turns": grown_turns,
        "grow_s": round(grow_s, 1),
        "events_per_turn": round(events_per_turn, 1),
        "default_max_turns": DEFAULT_MAX_TURNS,
        "bot_packages": bot_packages(("rasa", "sanic")),
        "rasa_model": model.name,
        "rasa_model_trained_now": trained_now,
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1000, help="events to grow to (1000)")
    parser.add_argument("--turns", type=int, default=20, help="timed turns per kind (20)")
    add_out_argument(parser, "long_conversation")
    args = parser.parse_args()
    with Run("long_conversation", out=args.out, packages=("rasa-sdk", "httpx")) as run:
        run.results = measure(args.events, args.turns)


if __name__ == "__main__":
    main()
