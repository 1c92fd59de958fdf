"""Demo creators for ``beacon demo``: a dozen Instagram creators with posts and an audience.

Each creator posts about one niche for about four months; fans reply and mention
them. Planted (and returned in the manifest so tests can check that the
influencer analytics find it):

- ``fake_engagement``: two creators whose likes are far above what their
  audience predicts (bought likes that bring no comments) and whose followers
  jump overnight (bought followers);
- ``lucky_small``: a small trail-running creator with few posts, three of which
  went viral; its plain average beats steadier peers, a shrunk estimate should not.

Everything goes through :func:`foundation.workspace.ingest_rows` (validated and
pseudonymised); influencer ids are ``inf-<handle>``, post ids ``cr-<handle>-0001``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import duckdb
import numpy as np

from foundation.workspace import Pseudonymizer, ingest_rows, utc_now

SOURCE = "demo:creators"
WINDOW_DAYS = 120

NICHE_POSTS: dict[str, tuple[str, ...]] = {
    "trail running": (
        "Twenty muddy miles on the ridge trail today, grip held on every wet root. {tags}",
        "Trail shoe review: how the lugs handle loose scree on steep descents. {tags}",
        "Sunrise hill repeats on singletrack, legs burning, heart full. {tags}",
        "My kit for a mountain ultra: vest, poles, soft flasks, trail shoes with a rock plate. {tags}",
        "Technical downhill tips: quick feet, eyes three steps ahead, arms wide. {tags}",
        "Race recap: 50k trail race with 2,400 m of climbing and a river crossing. {tags}",
        "Which trail running shoes for rocky alpine paths? Testing three pairs this month. {tags}",
        "Night run through the forest with a headlamp, just me and the owls. {tags}",
    ),
    "road running": (
        "Tempo Tuesday: 8 km at threshold pace along the river path. {tags}",
        "Marathon block week 9, long run of 32 km at goal pace. {tags}",
        "Road shoe rotation: a daily trainer, a carbon racer and a recovery shoe. {tags}",
        "Negative splits at the city half marathon, new personal best! {tags}",
        "Interval session on the track: 10 x 400 m with 90 s rest. {tags}",
        "How I fuel for a marathon: gels every 30 minutes and plenty of water. {tags}",
    ),
    "hiking": (
        "Three-day hut-to-hut hike through the Alps, packing list in the caption. {tags}",
        "Summit at dawn after a 5 am start, worth every step of the switchbacks. {tags}",
        "Hiking boots or trail shoes for a long-distance trek? My honest take. {tags}",
        "Wild camping by a glacier lake, the quietest night of the year. {tags}",
        "Day hike guide: waterfalls, ridgelines and the best picnic spot. {tags}",
        "Blisters are optional: how I lace my hiking boots for steep descents. {tags}",
    ),
    "fitness": (
        "Full-body strength workout: squats, deadlifts, presses, 45 minutes. {tags}",
        "Leg day done. Progressive overload is the secret, not magic supplements. {tags}",
        "Home HIIT session, no equipment, 20 minutes of burpees and lunges. {tags}",
        "High-protein meal prep for a week of training. {tags}",
        "Core routine for runners and lifters: planks, dead bugs, pallof press. {tags}",
        "Gym transformation update, twelve weeks of consistent training. {tags}",
    ),
    "fashion": (
        "Autumn outfit: oversized wool coat, straight jeans and chunky loafers. {tags}",
        "Capsule wardrobe: ten pieces, thirty looks for the season. {tags}",
        "Street style from fashion week, the colour of the season is burgundy. {tags}",
        "Styling one silk scarf five ways for work and weekends. {tags}",
        "Vintage thrift haul: a leather jacket and a pleated skirt. {tags}",
        "Trend report: tailored trousers are back and I am here for it. {tags}",
    ),
    "food": (
        "Slow-cooked lamb tagine with apricots and toasted almonds, recipe below. {tags}",
        "Street food tour: the best dumplings in the night market. {tags}",
        "Homemade sourdough, 36-hour ferment, open crumb at last. {tags}",
        "Five spices every kitchen needs and how to toast them. {tags}",
        "Weeknight pasta in 15 minutes: garlic, chilli, lemon and parmesan. {tags}",
        "Tasting menu at a tiny family restaurant, every course a story. {tags}",
    ),
    "travel": (
        "48 hours in Lisbon: trams, pastel de nata and sunset viewpoints. {tags}",
        "Island hopping in Greece on a budget, ferry tips inside. {tags}",
        "Packing light for a month of backpacking through South-East Asia. {tags}",
        "Hidden beach reached only by boat, the water was unreal. {tags}",
        "Night train across Europe: sleeper cabins, views and snacks. {tags}",
        "Road trip itinerary through Iceland's ring road in ten days. {tags}",
    ),
    "cycling": (
        "Gravel ride through the vineyards, 90 km of dusty roads. {tags}",
        "Climbing the col on the road bike, 12 km at 7 percent. {tags}",
        "Bike maintenance Sunday: chain, brakes and tubeless sealant. {tags}",
        "Commuting by bike all winter: lights, fenders and good gloves. {tags}",
        "Group ride recap, 35 km/h average and a sprint to the cafe. {tags}",
    ),
    "yoga": (
        "Morning flow for tight hips, twenty minutes on the mat. {tags}",
        "Breathwork and a slow yin session after a long week. {tags}",
        "Yoga for runners: hamstrings, calves and lower back. {tags}",
        "Sunset practice on the beach, balance poses and gratitude. {tags}",
        "Beginner's guide to sun salutations, step by step. {tags}",
    ),
}
NICHE_TAGS: dict[str, tuple[str, ...]] = {
    "trail running": ("#trailrunning", "#ultrarunning", "#mountainrunning", "#trailshoes"),
    "road running": ("#running", "#marathontraining", "#roadrunning", "#runnersofinstagram"),
    "hiking": ("#hiking", "#trekking", "#mountains", "#hikingboots"),
    "fitness": ("#fitness", "#gym", "#workout", "#strengthtraining"),
    "fashion": ("#fashion", "#ootd", "#style", "#streetstyle"),
    "food": ("#food", "#foodie", "#recipe", "#homecooking"),
    "travel": ("#travel", "#wanderlust", "#travelgram", "#backpacking"),
    "cycling": ("#cycling", "#gravel", "#roadcycling", "#bikelife"),
    "yoga": ("#yoga", "#yogaeveryday", "#mindfulness", "#yogaforrunners"),
}

AUDIENCE = {
    "positive": (
        "@{h} this is so inspiring, thank you for sharing!",
        "Love this post @{h}, great tips as always",
        "@{h} you are the reason I started, amazing work",
        "Brilliant content @{h}, tried it and loved it",
        "@{h} beautiful photos and really helpful advice",
    ),
    "neutral": (
        "@{h} which brand is that?",
        "@{h} where was this taken?",
        "Saving this for later @{h}",
        "@{h} how long did that take?",
    ),
    "negative": (
        "@{h} another ad, this feed has become boring",
        "Not a fan of this one @{h}, feels fake",
        "@{h} terrible advice, you will get injured doing that",
    ),
}
BOT_COMMENTS = ("@{h} nice pic", "@{h} great post", "@{h} follow back?", "@{h} cool")
FANS = tuple(
    f"fan_{name}{n}" for n, name in enumerate(("lia", "ben", "ada", "raf", "ivy", "ned") * 8)
)


@dataclass(frozen=True)
class DemoCreator:
    """One planted creator: niche, audience size, posting habit and engagement."""

    handle: str
    niche: str
    followers: int
    posts_per_week: float
    rate: float  # organic engagement per follower per post
    cost: float
    country: str
    kind: str = "steady"  # steady | fake_engagement | lucky_small
    positive_share: float = 0.7


CREATORS: tuple[DemoCreator, ...] = (
    DemoCreator("ridge_runner_rae", "trail running", 48_000, 3.0, 0.045, 700.0, "Austria"),
    DemoCreator("singletrack_sam", "trail running", 26_000, 4.0, 0.052, 450.0, "Norway"),
    DemoCreator("vertical_vic", "trail running", 210_000, 2.5, 0.026, 2_500.0, "France"),
    DemoCreator(
        "dirt_dani", "trail running", 14_000, 0.6, 0.03, 250.0, "Ireland", kind="lucky_small"
    ),
    DemoCreator(
        "trail_hype_kai",
        "trail running",
        95_000,
        3.0,
        0.03,
        1_100.0,
        "Germany",
        kind="fake_engagement",
        positive_share=0.5,
    ),
    DemoCreator("tempo_tess", "road running", 72_000, 3.0, 0.040, 900.0, "Netherlands"),
    DemoCreator("summit_sara", "hiking", 130_000, 2.0, 0.030, 1_500.0, "Switzerland"),
    DemoCreator(
        "lift_leo",
        "fitness",
        380_000,
        5.0,
        0.018,
        4_000.0,
        "United States",
        kind="fake_engagement",
        positive_share=0.5,
    ),
    DemoCreator("style_sol", "fashion", 450_000, 4.0, 0.018, 4_500.0, "Italy", positive_share=0.8),
    DemoCreator("spice_route_ana", "food", 160_000, 3.0, 0.028, 1_800.0, "Spain"),
    DemoCreator(
        "nomad_nils", "travel", 290_000, 2.0, 0.022, 3_000.0, "Sweden", positive_share=0.55
    ),
    DemoCreator("spin_cycle_cleo", "cycling", 58_000, 3.0, 0.042, 800.0, "Belgium"),
    DemoCreator("flow_yoga_yuki", "yoga", 36_000, 2.0, 0.048, 500.0, "Japan", positive_share=0.85),
)

#: Creators whose latest post of the last complete week talks about the brand (the weekly
#: digest's "creators who mentioned us"); one has bought engagement, so the digest flags it.
BRAND_MENTIONS: dict[str, str] = {
    "ridge_runner_rae": "Long day on the ridge in my new @trailbird Sprint 3, grip was spot on {tags}",
    "trail_hype_kai": "Obsessed with the @trailbird Ridgeline 2!! Link in bio {tags}",
}

LUCKY_POSTS = 10
LUCKY_VIRAL = 3
LUCKY_VIRAL_RATE = 0.30
FAKE_LIKE_MULTIPLIER = 4.0
FAKE_FOLLOWER_JUMP = 0.35
POST_RATE_SD = 0.35
COMMENTS_PER_LIKE = 0.04


def _stamp(day: date, rng: np.random.Generator) -> str:
    moment = datetime(day.year, day.month, day.day, int(rng.integers(7, 22)), int(rng.integers(60)))
    return moment.isoformat() + "+00:00"


def _post_days(c: DemoCreator, start: date, rng: np.random.Generator) -> list[date]:
    if c.kind == "lucky_small":
        offsets = np.sort(rng.choice(WINDOW_DAYS, size=LUCKY_POSTS, replace=False))
    else:
        n = round(c.posts_per_week * WINDOW_DAYS / 7)
        gap = WINDOW_DAYS / n
        offsets = np.clip(
            np.round(np.arange(n) * gap + rng.uniform(-0.3, 0.3, n) * gap), 0, WINDOW_DAYS - 1
        )
    return [start + timedelta(days=int(o)) for o in offsets]


def _creator_posts(
    c: DemoCreator, start: date, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    days = _post_days(c, start, rng)
    n = len(days)
    growth = np.linspace(0.0, 1.0, n)
    followers = c.followers * (0.94 + 0.06 * growth) * rng.normal(1.0, 0.002, n)
    info: dict[str, Any] = {}
    jumped = np.zeros(n, dtype=bool)
    if c.kind == "fake_engagement":
        k = int(n * 0.55)  # bought followers arrive overnight about half-way through
        followers[k:] *= 1.0 + FAKE_FOLLOWER_JUMP
        jumped[k:] = True
        info["jump_after"] = days[k - 1].isoformat()
    viral = set()
    if c.kind == "lucky_small":
        viral = set(rng.choice(n, size=LUCKY_VIRAL, replace=False).tolist())
    templates = NICHE_POSTS[c.niche]
    rows = []
    for i, day in enumerate(days):
        # Bought followers do not engage: organic engagement follows the real audience.
        organic_followers = followers[i] / (1.0 + FAKE_FOLLOWER_JUMP) if jumped[i] else followers[i]
        rate = LUCKY_VIRAL_RATE if i in viral else c.rate
        organic = rng.poisson(organic_followers * rate * rng.lognormal(0.0, POST_RATE_SD))
        comments = rng.poisson(organic * COMMENTS_PER_LIKE)
        likes = organic
        if c.kind == "fake_engagement":
            likes = organic + rng.poisson(organic * (FAKE_LIKE_MULTIPLIER - 1.0))
        tags = " ".join(rng.choice(NICHE_TAGS[c.niche], size=2, replace=False))
        rows.append(
            {
                "post_id": f"cr-{c.handle}-{i + 1:04d}",
                "platform": "instagram",
                "account": c.handle,
                "text": templates[int(rng.integers(len(templates)))].format(tags=tags),
                "posted_at": _stamp(day, rng),
                "followers": int(followers[i]),
                "likes": int(likes),
                "comments": int(comments),
                "shares": int(rng.poisson(organic * 0.01)),
                "views": None,
                "media_type": "video" if rng.random() < 0.25 else "image",
                "media_path": None,
                "campaign_id": None,
            }
        )
    return rows, info


def _audience(c: DemoCreator, start: date, rng: np.random.Generator) -> list[dict[str, Any]]:
    rows = []
    n = int(rng.integers(18, 30))
    for i in range(n):
        if c.kind == "fake_engagement" and rng.random() < 0.5:
            text = BOT_COMMENTS[int(rng.integers(len(BOT_COMMENTS)))]
        else:
            neg = (1.0 - c.positive_share) * 0.5
            label = ("positive", "neutral", "negative")[
                int(rng.choice(3, p=[c.positive_share, 1.0 - c.positive_share - neg, neg]))
            ]
            pool = AUDIENCE[label]
            text = pool[int(rng.integers(len(pool)))]
        day = start + timedelta(days=int(rng.integers(WINDOW_DAYS)))
        rows.append(
            {
                "post_id": f"cr-{c.handle}-a{i + 1:03d}",
                "platform": "instagram",
                "account": FANS[int(rng.integers(len(FANS)))],
                "text": text.format(h=c.handle),
                "posted_at": _stamp(day, rng),
                "followers": int(rng.integers(80, 2_000)),
                "likes": int(rng.poisson(2)),
                "comments": int(rng.poisson(0.3)),
                "shares": 0,
                "views": None,
                "media_type": "none",
                "media_path": None,
                "campaign_id": None,
            }
        )
    return rows


def add_demo_creators(
    con: duckdb.DuckDBPyConnection,
    pseudonymizer: Pseudonymizer,
    *,
    end_date: date,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Write the demo creators, their posts and their audience into the workspace.

    Args:
        con: Open read-write workspace connection.
        pseudonymizer: The installation's pseudonymizer (handles are stored hashed).
        end_date: Last day of the creators' posting window.
        rng: Random generator (seeded by the caller).

    Returns:
        Manifest: ``creators`` (ids), ``niches`` (id -> niche), ``fake_engagement``
        (ids), ``lucky_small`` (id), ``steady_peers_of_lucky`` (ids of the same
        tier), ``follower_jumps`` (id -> last day before the jump),
        ``brand_mentions`` (the last complete week's Monday and the ids of creators whose
        post that week mentions the brand) and ``posts`` (the ingest report).
    """
    start = end_date - timedelta(days=WINDOW_DAYS - 1)
    rows: list[dict[str, Any]] = []
    jumps: dict[str, str] = {}
    influencer_rows = []
    now = utc_now()
    # The last complete ISO week before end_date: what `beacon digest` reports by default.
    monday = end_date - timedelta(days=end_date.weekday() + 7)
    week = (monday.isoformat(), (monday + timedelta(days=6)).isoformat())
    mentioned = []
    for c in CREATORS:
        posts, info = _creator_posts(c, start, rng)
        in_week = [post for post in posts if week[0] <= post["posted_at"][:10] <= week[1]]
        if c.handle in BRAND_MENTIONS and in_week:
            tags = " ".join(NICHE_TAGS[c.niche][:2])
            in_week[-1]["text"] = BRAND_MENTIONS[c.handle].format(tags=tags)
            mentioned.append(f"inf-{c.handle}")
        rows += posts + _audience(c, start, rng)
        if "jump_after" in info:
            jumps[f"inf-{c.handle}"] = info["jump_after"]
        likes = np.array([p["likes"] for p in posts], dtype=float)
        follower_counts = np.array([p["followers"] for p in posts], dtype=float)
        lifetime_posts = len(posts) + (int(rng.integers(40, 600)) if c.kind != "lucky_small" else 4)
        influencer_rows.append(
            (
                f"inf-{c.handle}",
                pseudonymizer.account(c.handle),
                "instagram",
                int(follower_counts[-1]),
                lifetime_posts,
                round(float(likes.mean()), 1),
                round(float((likes / follower_counts).mean()), 5),
                c.country,
                c.niche,
                c.cost,
                SOURCE,
                now,
            )
        )
    report = ingest_rows(con, enumerate(rows, start=1), source=SOURCE, pseudonymizer=pseudonymizer)
    con.executemany(
        "INSERT OR IGNORE INTO influencers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        influencer_rows,
    )
    lucky = next(c for c in CREATORS if c.kind == "lucky_small")
    return {
        "creators": [f"inf-{c.handle}" for c in CREATORS],
        "niches": {f"inf-{c.handle}": c.niche for c in CREATORS},
        "fake_engagement": [f"inf-{c.handle}" for c in CREATORS if c.kind == "fake_engagement"],
        "lucky_small": f"inf-{lucky.handle}",
        "steady_peers_of_lucky": [
            f"inf-{c.handle}"
            for c in CREATORS
            if c.kind == "steady" and 10_000 <= c.followers < 100_000
        ],
        "follower_jumps": jumps,
        "brand_mentions": {"week_start": week[0], "creators": mentioned},
        "window": {"start": start.isoformat(), "end": end_date.isoformat()},
        "posts": report.to_dict(),
    }
