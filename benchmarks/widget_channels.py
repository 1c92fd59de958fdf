"""Which Rasa channel the support widget should use: REST or socket.io, under concurrent users.

    python -m benchmarks.widget_channels [--users 1,10,25] [--rounds 1]

Starts the real stack (action server + Rasa) on free loopback ports over a fresh
demo workspace with the public and internal documents indexed, with Rasa's stock
``socketio`` channel enabled next to Beacon's REST channel (in a temporary copy
of credentials.yml; the project's file is not changed). Then, for each number of
simulated customers, every customer runs the same short support conversation
(a greeting, a returns question, a shipping question — the last two are custom
actions with retrieval) at the same time, once over REST (``POST
/webhooks/rest/webhook``, one request per turn) and once over socket.io (connect,
``session_request``, then ``user_uttered`` and wait for the ``bot_uttered``
events). A turn's latency is from sending until its last bot message arrived; a
turn fails on a transport error, an HTTP error, a timeout or a missing reply.

Two behaviours the widget depends on are checked as well:

- socket.io with ``session_persistence: true`` (needed to keep a conversation
  across page reloads): does a reply arrive at all?
- socket.io with a client that puts ``{"audience": "staff"}`` into the message
  metadata: is a staff-only answer given to an unauthenticated client?

Prints a table and a JSON summary, writes docs/benchmarks/widget_channels.json and
renders docs/benchmarks/widget_channels.md from it (``--out`` elsewhere).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import socketio

from beacon.demo import build_demo
from beacon.stack import RASA_CREDENTIALS, Stack, StackConfig, ensure_model, free_port
from benchmarks._report import Run, add_out_argument, bot_packages, percentile
from bot._rate_limit import ADDRESS_RATE_ENV, CustomerLimits
from foundation.settings import PROJECT_ROOT, Settings, get_settings
from foundation.workspace import Pseudonymizer, Workspace
from knowledge import build_index

CONVERSATION = ("hi", "what is your return policy?", "how long does shipping take?")
STAFF_QUESTION = "did the subject-line test win?"
TURN_TIMEOUT_S = 60.0
#: Every simulated customer shares the loopback address, which stands for as many real
#: addresses: the per-address limit of Beacon's REST channel is lifted to this for the run,
#: so that the benchmark measures the channel, not the limiter. The per-session limit stays
#: as deployed.
ADDRESS_LIMIT_PER_MINUTE = 100_000
USER_EVENT, BOT_EVENT = "user_uttered", "bot_uttered"


def socketio_block(session_persistence: bool) -> str:
    """The ``socketio`` channel block for credentials.yml (Rasa's stock channel)."""
    return (
        "\n# Rasa's stock socket.io channel (benchmarks.widget_channels only).\n"
        "socketio:\n"
        f"  user_message_evt: {USER_EVENT}\n"
        f"  bot_message_evt: {BOT_EVENT}\n"
        f"  session_persistence: {'true' if session_persistence else 'false'}\n"
    )


@dataclass(frozen=True)
class LevelResult:
    """One channel at one number of concurrent users.

    Attributes:
        channel: ``rest`` or ``socketio``.
        users: Simulated customers talking at the same time.
        turns: Turns attempted (users x conversation length).
        errors: Turns that failed (transport/HTTP error, timeout, missing reply).
        p50_ms: Median latency of the successful turns.
        p95_ms: 95th percentile latency of the successful turns.
        max_ms: Slowest successful turn.
        wall_s: Time until every user finished.
        turns_per_s: Successful turns per second of wall time.
        error_kinds: Count of each kind of failure.
    """

    channel: str
    users: int
    turns: int
    errors: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    wall_s: float
    turns_per_s: float
    error_kinds: dict[str, int]


Timing = float | str  # a latency in ms, or the kind of failure


async def rest_user(
    client: httpx.AsyncClient, bot_url: str, turns: tuple[str, ...]
) -> list[Timing]:
    """One customer's conversation over REST; one timing per turn."""
    sender = f"bench-rest-{uuid.uuid4().hex[:10]}"
    timings: list[Timing] = []
    for text in turns:
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
        if reply.status_code != 200:
            timings.append(f"http {reply.status_code}")
        elif not reply.json():
            timings.append("no reply")
        else:
            timings.append(1000 * (time.perf_counter() - start))
    return timings


async def socketio_user(
    bot_url: str,
    turns: tuple[str, ...],
    expected: dict[str, int],
    metadata: dict[str, Any] | None = None,
    replies: list[str] | None = None,
) -> list[Timing]:
    """One customer's conversation over socket.io; one timing per turn.

    Args:
        bot_url: The Rasa server.
        turns: The user's messages, in order.
        expected: How many bot messages each text gets (measured over REST).
        metadata: Sent with every message (Rasa's channel passes it into the tracker).
        replies: When given, the bot's texts are appended to it.
    """
    client = socketio.AsyncClient(reconnection=False)
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    confirmed = asyncio.Event()
    session_id = uuid.uuid4().hex

    @client.on(BOT_EVENT)
    async def on_bot(data: dict[str, Any]) -> None:
        inbox.put_nowait(data)

    @client.on("session_confirm")
    async def on_confirm(_data: Any) -> None:
        confirmed.set()

    timings: list[Timing] = []
    try:
        await client.connect(bot_url, socketio_path="socket.io", wait_timeout=int(TURN_TIMEOUT_S))
        await client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(confirmed.wait(), TURN_TIMEOUT_S)
    except (TimeoutError, socketio.exceptions.SocketIOError) as error:
        await client.disconnect()
        return [f"connect: {type(error).__name__}"] * len(turns)
    try:
        for text in turns:
            start = time.perf_counter()
            payload: dict[str, Any] = {"message": text, "session_id": session_id}
            if metadata is not None:
                payload["metadata"] = metadata
            await client.emit(USER_EVENT, payload)
            try:
                for _ in range(expected.get(text, 1)):
                    remaining = TURN_TIMEOUT_S - (time.perf_counter() - start)
                    message = await asyncio.wait_for(inbox.get(), max(remaining, 0.01))
                    if replies is not None:
                        replies.append(str(message.get("text") or ""))
            except TimeoutError:
                timings.append("timeout")
                continue
            timings.append(1000 * (time.perf_counter() - start))
    finally:
        await client.disconnect()
    return timings


async def run_level(
    channel: str, users: int, bot_url: str, expected: dict[str, int]
) -> LevelResult:
    """All ``users`` run the conversation at once over ``channel``."""
    start = time.perf_counter()
    if channel == "rest":
        limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
        async with httpx.AsyncClient(timeout=TURN_TIMEOUT_S, limits=limits) as client:
            per_user = await asyncio.gather(
                *(rest_user(client, bot_url, CONVERSATION) for _ in range(users))
            )
    else:
        per_user = await asyncio.gather(
            *(socketio_user(bot_url, CONVERSATION, expected) for _ in range(users))
        )
    wall = time.perf_counter() - start
    timings = [t for user in per_user for t in user]
    ok = [t for t in timings if isinstance(t, float)]
    kinds: dict[str, int] = {}
    for t in timings:
        if isinstance(t, str):
            kinds[t] = kinds.get(t, 0) + 1
    return LevelResult(
        channel=channel,
        users=users,
        turns=len(timings),
        errors=len(timings) - len(ok),
        p50_ms=round(percentile(ok, 0.5), 1),
        p95_ms=round(percentile(ok, 0.95), 1),
        max_ms=round(max(ok, default=float("nan")), 1),
        wall_s=round(wall, 2),
        turns_per_s=round(len(ok) / wall, 2),
        error_kinds=kinds,
    )


def prepare_home(home: Path) -> Settings:
    """A fresh demo workspace with the demo documents indexed, under ``home``."""
    workspace = Workspace(home / "beacon.duckdb")
    build_demo(workspace, Pseudonymizer(b"bench"), end_date=datetime.now(UTC).date())
    build_index(PROJECT_ROOT / "data" / "knowledge", home / "knowledge")
    return Settings(home=home, workspace_path=workspace.path, data_dir=None, staff_token="bench")


def write_credentials(path: Path, session_persistence: bool) -> Path:
    """The project's credentials.yml plus a socket.io block, written to ``path``."""
    path.write_text(RASA_CREDENTIALS.read_text() + socketio_block(session_persistence))
    return path


async def expected_counts(bot_url: str) -> dict[str, int]:
    """Bot messages per text of the conversation (one REST warm-up conversation)."""
    async with httpx.AsyncClient(timeout=TURN_TIMEOUT_S) as client:
        sender = f"bench-warm-{uuid.uuid4().hex[:8]}"
        counts = {}
        for text in CONVERSATION:
            reply = await client.post(
                f"{bot_url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
            )
            reply.raise_for_status()
            counts[text] = len(reply.json())
        return counts


async def staff_claim_check(bot_url: str) -> dict[str, Any]:
    """Does socket.io honour ``{"audience": "staff"}`` sent by an unauthenticated client?"""
    replies: list[str] = []
    timing = await socketio_user(
        bot_url, (STAFF_QUESTION,), {}, metadata={"audience": "staff"}, replies=replies
    )
    text = " ".join(replies)
    return {
        "question": STAFF_QUESTION,
        "answered": isinstance(timing[0], float),
        # A customer asking a staff question gets the public help pages, never the analysis.
        "refused_as_customer": "help pages" in text and "Verdict:" not in text,
        "staff_answer_given": "Verdict:" in text,
        "reply_start": text[:160],
    }


async def persistence_check(bot_url: str) -> dict[str, Any]:
    """With ``session_persistence: true``: does the reply to "hi" arrive within the timeout?"""
    timing = await socketio_user(bot_url, ("hi",), {"hi": 1})
    return {
        "reply_arrived": isinstance(timing[0], float),
        "result": timing[0] if isinstance(timing[0], str) else f"{timing[0]:.0f} ms",
    }


async def measure(stack: Stack, levels: list[int], rounds: int) -> dict[str, Any]:
    """Warm up, then every level and channel ``rounds`` times (alternating channels)."""
    bot_url = stack.config.bot_url
    expected = await expected_counts(bot_url)
    await socketio_user(bot_url, CONVERSATION, expected)  # warm-up of the socket.io path
    results: list[LevelResult] = []
    for users in levels:
        for _ in range(rounds):
            for channel in ("rest", "socketio"):
                result = await run_level(channel, users, bot_url, expected)
                print(_row(result), flush=True)
                results.append(result)
    return {
        "expected_messages": expected,
        "levels": [asdict(r) for r in results],
        "staff_claim_over_socketio": await staff_claim_check(bot_url),
    }


def _row(r: LevelResult) -> str:
    errors = f"{r.errors}" + (f" {r.error_kinds}" if r.error_kinds else "")
    return (
        f"{r.channel:9} {r.users:5d} {r.turns:6d} {r.p50_ms:8.0f} {r.p95_ms:8.0f} "
        f"{r.max_ms:8.0f} {r.turns_per_s:8.2f}  {errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", default="1,10,25", help="concurrent users per level (1,10,25)")
    parser.add_argument("--rounds", type=int, default=1, help="repeats of each level (1)")
    add_out_argument(parser, "widget_channels", "--json")
    args = parser.parse_args()
    levels = [int(n) for n in args.users.split(",") if n.strip()]
    with Run(
        "widget_channels",
        out=args.out,
        packages=("httpx", "python-socketio", "rasa-sdk"),
    ) as run:
        run.results = run_all(levels, args.rounds)
        print(json.dumps({k: v for k, v in run.results.items() if k != "levels"}, indent=2))


def run_all(levels: list[int], rounds: int) -> dict[str, Any]:
    """Start the stack with the socket.io channel, measure every level, then the two checks."""
    model, _ = ensure_model(get_settings())
    os.environ[ADDRESS_RATE_ENV] = str(ADDRESS_LIMIT_PER_MINUTE)  # the stack inherits it
    limits = CustomerLimits.from_env()
    summary: dict[str, Any] = {
        "users": levels,
        "rounds": rounds,
        "conversation": list(CONVERSATION),
        "turn_timeout_s": TURN_TIMEOUT_S,
        "customer_limits_per_minute": {
            "session": limits.session_per_minute,
            "address": limits.address_per_minute,
        },
        "bot_packages": bot_packages(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        settings = prepare_home(home)
        credentials = write_credentials(home / "credentials.yml", session_persistence=False)
        config = StackConfig(
            settings=settings,
            bot_port=free_port(),
            action_port=free_port(),
            credentials=credentials,
            log_dir=home / "logs",
        )
        print(
            f"{'channel':9} {'users':>5} {'turns':>6} {'p50 ms':>8} {'p95 ms':>8} "
            f"{'max ms':>8} {'turns/s':>8}  errors"
        )
        with Stack(config, model) as stack:
            summary |= asyncio.run(measure(stack, levels, rounds))
            # The same Rasa with session_persistence on (what keeping a conversation across
            # page reloads needs from this channel).
            stack.stop_process("bot")
            write_credentials(credentials, session_persistence=True)
            stack.start_bot()
            summary["socketio_session_persistence"] = asyncio.run(
                persistence_check(stack.config.bot_url)
            )
            log = (home / "logs" / "bot.log").read_text(errors="replace")
            summary["socketio_session_persistence"]["log_says_enter_room_never_awaited"] = (
                "enter_room' was never awaited" in log
            )
    summary["median_p50_ms"] = {
        channel: statistics.median(
            level["p50_ms"] for level in summary["levels"] if level["channel"] == channel
        )
        for channel in ("rest", "socketio")
    }
    return summary


if __name__ == "__main__":
    main()
