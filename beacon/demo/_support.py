"""Demo support chats for ``beacon demo``: six months of customers on Trailbird's widget.

Customers ask about orders, returns, sizing, care and gift cards; some are upset
(late orders, refunds). Planted (and returned in the manifest):

- ``spike``: in the same days as the public sole-peeling spike, extra upset chats
  about soles coming apart reach support too;
- ``recent_shift``: in the last 14 days chats about late deliveries double, so
  support chats turn more negative at the end of the window.

Each chat is one or more customer messages stored as ``support`` posts (post ids
``support-d000001``; the chat id, like a widget session, is the pseudonymised
account) through :func:`foundation.workspace.ingest_rows`, plus a 1-5 rating for some
chats, lower when the chat was upset.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np

from analytics.support import SUPPORT_PLATFORM
from foundation.workspace import Pseudonymizer, ingest_rows

SOURCE = "demo:support"
CHATS_PER_DAY = 4.0
SPIKE_EXTRA_CHATS = 8
RECENT_DAYS = 14
RATED_SHARE = 0.4

CHATS: dict[str, tuple[tuple[str, ...], ...]] = {
    "calm": (
        ("Hi, how long does shipping to Germany take?",),
        ("Can I return shoes I've worn outside once?", "Ok thanks, and is the return free?"),
        ("Is the {product} true to size?",),
        ("How do I clean the {product} after a muddy run?",),
        ("Do you sell gift cards?", "Great, thank you!"),
        ("When is the {product} back in size 44?",),
        ("What's the difference between the Ridgeline 2 and the Sprint 3?",),
        ("Can I change the delivery address of my order?",),
    ),
    "late": (
        (
            "My order is two weeks late and nobody answers my emails.",
            "This is really frustrating, where is my order?",
        ),
        ("Still waiting for my {product}, ordered 12 days ago. Any update?",),
        (
            "Tracking hasn't moved in a week. Not happy.",
            "I want a refund if it's not here by Friday",
        ),
    ),
    "refund": (
        (
            "I returned my {product} three weeks ago and still no refund!!",
            "I want to talk to a person",
        ),
        ("Where is my refund? This is the second time I ask.",),
    ),
    "sole": (
        ("The sole on my {product} is peeling off after two runs. Is there a recall?",),
        (
            "Glue failed on my {product}, the sole came apart. I want a replacement.",
            "This is unacceptable, get me an agent",
        ),
    ),
}
PRODUCTS = ("Ridgeline 2", "Sprint 3", "Canyon GTX", "Trail socks")
MIX = {"calm": 0.72, "late": 0.16, "refund": 0.12}
RECENT_MIX = {"calm": 0.56, "late": 0.32, "refund": 0.12}
#: Typical rating of a chat of each kind (drawn around it, clipped to 1-5).
RATING_CENTRE = {"calm": 4.5, "late": 2.5, "refund": 2.0, "sole": 2.0}


def add_demo_support(
    con: duckdb.DuckDBPyConnection,
    pseudonymizer: Pseudonymizer,
    *,
    end_date: date,
    days: int,
    spike_start: date,
    spike_days: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Write demo support chats and ratings into the workspace.

    Args:
        con: Open read-write workspace connection.
        pseudonymizer: The installation's pseudonymizer.
        end_date: Last day of the window.
        days: Length of the window in days.
        spike_start: First day of the planted sole-peeling spike.
        spike_days: Its length in days.
        rng: Random generator (seeded by the caller).

    Returns:
        Manifest: ``chats``, ``messages``, ``spike`` (start, end, extra chats a day),
        ``recent_shift`` (start, the late-delivery share before and after).
    """
    start = end_date - timedelta(days=days - 1)
    recent_start = end_date - timedelta(days=RECENT_DAYS - 1)
    rows: list[dict[str, Any]] = []
    ratings: list[tuple[str, datetime, str, int]] = []
    chat_no = 0
    for offset in range(days):
        day = start + timedelta(days=offset)
        mix = RECENT_MIX if day >= recent_start else MIX
        kinds = [
            str(rng.choice(list(mix), p=list(mix.values())))
            for _ in range(int(rng.poisson(CHATS_PER_DAY)))
        ]
        if 0 <= (day - spike_start).days < spike_days:
            kinds += ["sole"] * SPIKE_EXTRA_CHATS
        for kind in kinds:
            chat_no += 1
            chat_id = f"demo-chat-{chat_no:05d}"
            options = CHATS[kind]
            messages = options[int(rng.integers(len(options)))]
            product = str(rng.choice(PRODUCTS))
            at = datetime.combine(day, datetime.min.time()) + timedelta(
                hours=int(rng.integers(7, 22)), minutes=int(rng.integers(0, 50))
            )
            for turn, template in enumerate(messages):
                rows.append(
                    {
                        "post_id": f"{SUPPORT_PLATFORM}-d{len(rows) + 1:06d}",
                        "platform": SUPPORT_PLATFORM,
                        "account": chat_id,
                        "text": template.format(product=product),
                        "posted_at": (at + timedelta(minutes=2 * turn)).isoformat(),
                        "likes": 0,
                        "comments": 0,
                        "shares": 0,
                        "media_type": "none",
                    }
                )
            if rng.random() < RATED_SHARE:
                stars = int(np.clip(round(rng.normal(RATING_CENTRE[kind], 0.8)), 1, 5))
                ratings.append(
                    (
                        f"demo-{chat_no:05d}",
                        at + timedelta(minutes=10),
                        f"customer:{chat_id}",
                        stars,
                    )
                )
    report = ingest_rows(con, enumerate(rows, start=1), source=SOURCE, pseudonymizer=pseudonymizer)
    con.executemany("INSERT OR IGNORE INTO support_ratings VALUES (?, ?, ?, ?)", ratings)
    return {
        "chats": chat_no,
        "messages": len(rows),
        "stored": report.stored,
        "ratings": len(ratings),
        "spike": {
            "start": spike_start.isoformat(),
            "end": (spike_start + timedelta(days=spike_days - 1)).isoformat(),
            "extra_chats_per_day": SPIKE_EXTRA_CHATS,
        },
        "recent_shift": {
            "start": recent_start.isoformat(),
            "late_share_before": MIX["late"],
            "late_share_after": RECENT_MIX["late"],
        },
    }
