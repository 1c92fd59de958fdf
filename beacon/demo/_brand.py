"""``beacon demo``: a fictitious brand's workspace with known, planted structure.

Trailbird sells trail-running shoes and outdoor apparel. The generator writes
six months of its own posts on three platforms, customers' posts about it,
three campaigns, three A/B experiments at the unit level and a few influencers,
all through the same validated ingest as real files. What is planted is
written to a manifest (returned, stored in the workspace's ``meta`` table and
saved next to it) so tests and benchmarks can check that analytics find it:

- engagement: follower-scaled counts with weekday, posting-hour and media effects;
- a three-day negative spike on Twitter about soles peeling off (its cause);
- experiments: one with a real effect, one without, one with a sample-ratio mismatch;
- creators (beacon/demo/_creators.py): two with bought engagement, one small lucky one;
- images (beacon/demo/_media.py): synthetic pictures for image posts, with a planted effect
  of colourfulness, brightness, faces and text overlays on their engagement.

Everything is drawn from a seeded generator, so the same seed and end date
give the same workspace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from beacon.demo._creators import add_demo_creators
from beacon.demo._media import MEDIA_DIR_NAME, add_demo_media
from beacon.demo._support import add_demo_support
from foundation.workspace import (
    BATCH_LOCK_WAIT_SECONDS,
    IngestReport,
    Pseudonymizer,
    Workspace,
    ingest_rows,
    set_meta,
    utc_now,
)

if TYPE_CHECKING:
    from knowledge import PostIndexReport

BRAND = "Trailbird"
BRAND_HANDLE = "trailbird"
#: Where customers can write to (the public FAQ says the same).
SUPPORT_CONTACT = "support@trailbird.example"
DAYS = 182
PLATFORM_PREFIX = {"twitter": "tw", "instagram": "ig", "facebook": "fb"}

# Planted engagement structure (multiplicative effects on the expected rate).
BASE_RATE = {"twitter": 0.004, "instagram": 0.02, "facebook": 0.006}
FOLLOWERS_START = {"twitter": 42_000, "instagram": 120_000, "facebook": 60_000}
FOLLOWERS_END = {"twitter": 48_000, "instagram": 135_000, "facebook": 62_000}
WEEKDAY_EFFECT = (0.9, 0.95, 1.0, 1.0, 1.05, 1.3, 1.25)  # Monday .. Sunday
MEDIA_EFFECT = {"none": 1.0, "image": 1.4, "video": 1.8, "link": 0.8}
EVENING_HOURS = range(17, 21)
EVENING_EFFECT = 1.4
MORNING_HOURS = range(6, 10)
MORNING_EFFECT = 0.8
MEDIA_MIX = {
    "twitter": {"none": 0.45, "image": 0.3, "video": 0.1, "link": 0.15},
    "instagram": {"image": 0.7, "video": 0.3},
    "facebook": {"none": 0.1, "image": 0.45, "video": 0.2, "link": 0.25},
}
BRAND_POSTS_PER_DAY = {"twitter": 2, "instagram": 1, "facebook": 1}
MENTIONS_PER_DAY = {"twitter": 12, "instagram": 6, "facebook": 4}
MENTION_SENTIMENT = (0.15, 0.30, 0.55)  # negative, neutral, positive
SPIKE_OFFSET_DAYS = 40  # days before the end date
SPIKE_DAYS = 3
SPIKE_EXTRA_NEGATIVE = 40  # extra negative tweets per day
SPIKE_TERMS = ("sole", "peeling", "glue", "#TrailbirdRecall")

CAMPAIGNS = (
    # id, name, start offset, end offset (days from the window start), budget, objective.
    # The briefs in data/knowledge/internal/briefs/ state the same budgets and, for the
    # demo's reference end date (30 Nov 2026, the README's and the tests'), the same flight
    # dates: the window then starts on 2 Jun 2026, so Summer Sprint runs 2 Jun–13 Jul,
    # Back to Trail 25 Aug–5 Oct and the Holiday Gift Guide 14 Nov–24 Dec 2026. Another
    # end date moves every flight with the window. Only posts' campaign ids depend on
    # these offsets; no engagement effect is planted for campaigns.
    (
        "summer-sprint",
        "Summer Sprint",
        0,
        41,
        120_000.0,
        "sales of the Swift 3 lightweight trail shoe and newsletter sign-ups",
    ),
    (
        "back-to-trail",
        "Back to Trail",
        84,
        125,
        80_000.0,
        "win back lapsed customers before autumn",
    ),
    (
        "holiday-gifts",
        "Holiday Gift Guide",
        165,
        205,
        150_000.0,
        "gift sales of apparel and accessories",
    ),
)

PRODUCTS = ("Ridgeline 2", "Sprint 3", "Canyon GTX", "Summit jacket", "Trail socks", "Alpine vest")
HASHTAGS = (
    "#trailrunning",
    "#runhappy",
    "#trailbird",
    "#ultrarunning",
    "#outdoors",
    "#mountainrun",
)

BRAND_TEMPLATES = (
    "Meet the {product}: grip for wet rock, cushioning for the long way home. {tags}",
    "Sunrise miles hit different. Where are you running this weekend? {tags}",
    "New colourways of the {product} just dropped. Which one is yours? {tags}",
    "Tips from our coaches: slow down on the climbs, save it for the descent. {tags}",
    "{product} restock is live. Sizes go fast! {tags}",
    "Community run this Saturday, all paces welcome. {tags}",
    "Behind the design: how we tested the {product} on 1,000 km of trail. {tags}",
    "Read our guide to your first trail ultra. {tags}",
)
MENTION_TEMPLATES = {
    "positive": (
        "Loving my new @trailbird {product}, 20 miles and my feet still feel great!",
        "Best trail shoes I've owned. Thanks @trailbird, the {product} is amazing",
        "The {product} from @trailbird is so comfy, great grip on muddy descents",
        "Just finished my first 50k in the @trailbird {product}. Love them!",
        "Shout out to @trailbird support, super helpful and fast. Happy runner!",
        "Obsessed with the @trailbird {product}. Excellent fit and really light",
    ),
    "neutral": (
        "Does @trailbird ship the {product} to Canada?",
        "Anyone tried the @trailbird {product} on rocky trails?",
        "Thinking about the {product} from @trailbird or sticking with my old pair",
        "@trailbird when does the {product} come back in size 44?",
        "Ordered the {product} from @trailbird yesterday, arriving next week",
        "@trailbird is the {product} true to size?",
    ),
    "negative": (
        "My @trailbird order is two weeks late and nobody answers. Not happy",
        "Disappointed with the @trailbird {product}, the laces broke after a month",
        "@trailbird the {product} gave me blisters, worst purchase this year",
        "Still waiting for my refund from @trailbird. Terrible service",
        "The {product} is way too narrow, returning it. Sad, @trailbird",
    ),
}
SPIKE_TEMPLATES = (
    "The sole on my @trailbird {product} is peeling off after two runs! #TrailbirdRecall",
    "Glue failed, sole peeling on my {product}. Awful quality @trailbird #TrailbirdRecall",
    "@trailbird my {product} sole came apart mid-race. Horrible. Is there a recall?",
    "Sole peeling again on the {product}, third pair. Angry. @trailbird #TrailbirdRecall",
)
CONTACT_SNIPPETS = (" DM me or email {name}@example.com", " call me on +44 7700 900{n:03d}")

EXPERIMENTS: tuple[dict[str, Any], ...] = (
    {
        "experiment_id": "exp-subject-line",
        "name": "Subject-line test",
        "description": "Newsletter subject line: plain product name vs a question",
        "control": "plain",
        "variants": {"plain": 8000, "question": 8000},
        "click_rate": {"plain": 0.12, "question": 0.15},
        "conversion_rate": {"plain": 0.030, "question": 0.039},
        "metrics": "clicked,converted,revenue",
        "cost_per_unit": 0.002,
        "effect": "real",
    },
    {
        "experiment_id": "exp-button-colour",
        "name": "Button colour test",
        "description": "Checkout button colour: green vs orange",
        "control": "green",
        "variants": {"green": 5000, "orange": 5000},
        "click_rate": {"green": 0.08, "orange": 0.08},
        "conversion_rate": {"green": 0.02, "orange": 0.02},
        "metrics": "clicked,converted,revenue",
        "cost_per_unit": 0.0,
        "effect": "none",
    },
    {
        "experiment_id": "exp-free-shipping",
        "name": "Free-shipping banner test",
        "description": "Site banner announcing free shipping over 50 EUR; assignment was buggy",
        "control": "no-banner",
        "variants": {"no-banner": 3000, "banner": 2700},
        "click_rate": {"no-banner": 0.10, "banner": 0.11},
        "conversion_rate": {"no-banner": 0.025, "banner": 0.029},
        "metrics": "clicked,converted,revenue",
        "cost_per_unit": 0.0,
        "effect": "sample-ratio mismatch (planned 50/50)",
    },
)

INFLUENCERS = (
    # handle, followers, posts, avg_likes, country, topics, cost per post
    (
        "mountain_maya",
        85_000,
        640,
        3_400.0,
        "Switzerland",
        "trail running, ultra, mountains",
        1_200.0,
    ),
    (
        "urban_strider",
        240_000,
        1_900,
        4_100.0,
        "United Kingdom",
        "road running, city, fashion",
        3_500.0,
    ),
    (
        "ultra_ollie",
        32_000,
        410,
        2_050.0,
        "United States",
        "ultra running, trail, gear reviews",
        600.0,
    ),
    ("fit_fiona", 510_000, 3_200, 9_800.0, "Australia", "fitness, gym, nutrition", 6_000.0),
    ("trailmix_tom", 12_000, 150, 610.0, "Canada", "trail running, hiking, camping", 250.0),
    ("peak_paula", 150_000, 880, 4_200.0, "Spain", "mountains, hiking, travel", 2_000.0),
)


UNIT_COLUMNS = (
    "experiment_id",
    "unit_id",
    "variant",
    "clicked",
    "converted",
    "revenue",
    "pre_period",
    "cost",
)


@dataclass(frozen=True)
class DemoReport:
    """What ``beacon demo`` wrote."""

    posts: IngestReport
    manifest: dict[str, Any]
    manifest_path: Path
    post_index: PostIndexReport | None = None


def _choice(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    probs = np.array([weights[k] for k in keys], dtype=float)
    return str(keys[int(rng.choice(len(keys), p=probs / probs.sum()))])


def _stamp(day: date, hour: int, minute: int) -> str:
    return datetime(day.year, day.month, day.day, hour, minute).isoformat() + "+00:00"


def _campaign_on(day: date, window_start: date) -> str | None:
    offset = (day - window_start).days
    for campaign_id, _, start, end, _, _ in CAMPAIGNS:
        if start <= offset <= end:
            return campaign_id
    return None


def _brand_posts(rng: np.random.Generator, window_start: date) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for platform, per_day in BRAND_POSTS_PER_DAY.items():
        number = 0
        for offset in range(DAYS):
            day = window_start + timedelta(days=offset)
            progress = offset / (DAYS - 1)
            followers = int(
                FOLLOWERS_START[platform]
                + progress * (FOLLOWERS_END[platform] - FOLLOWERS_START[platform])
            )
            for _ in range(per_day):
                number += 1
                hour = int(rng.integers(7, 23))
                media = _choice(rng, MEDIA_MIX[platform])
                rate = BASE_RATE[platform] * WEEKDAY_EFFECT[day.weekday()] * MEDIA_EFFECT[media]
                if hour in EVENING_HOURS:
                    rate *= EVENING_EFFECT
                elif hour in MORNING_HOURS:
                    rate *= MORNING_EFFECT
                rate *= float(rng.lognormal(0.0, 0.35))
                likes = int(rng.poisson(followers * rate))
                tags = " ".join(rng.choice(HASHTAGS, size=int(rng.integers(0, 4)), replace=False))
                template = BRAND_TEMPLATES[int(rng.integers(len(BRAND_TEMPLATES)))]
                prefix = PLATFORM_PREFIX[platform]
                rows.append(
                    {
                        "post_id": f"{prefix}-{number:06d}",
                        "platform": platform,
                        "account": BRAND_HANDLE,
                        "text": template.format(product=rng.choice(PRODUCTS), tags=tags).strip(),
                        "posted_at": _stamp(day, hour, int(rng.integers(0, 60))),
                        "followers": followers,
                        "likes": likes,
                        "comments": int(rng.poisson(likes * 0.08)),
                        "shares": int(
                            rng.poisson(likes * (0.25 if platform == "twitter" else 0.05))
                        ),
                        "views": int(likes * rng.uniform(15, 30)) if media == "video" else None,
                        "media_type": media,
                        "media_path": f"media/{prefix}-{number:06d}.jpg"
                        if media == "image"
                        else None,
                        "campaign_id": _campaign_on(day, window_start),
                    }
                )
    return rows


def _mentions(
    rng: np.random.Generator, window_start: date, spike_start: date
) -> list[dict[str, Any]]:
    customers = [
        f"runner_{name}{n}"
        for n, name in enumerate(
            ("jane", "sam", "alex", "kim", "lee", "max", "ana", "joe", "eva", "tom") * 30
        )
    ]
    labels = ("negative", "neutral", "positive")
    rows: list[dict[str, Any]] = []
    for platform, per_day in MENTIONS_PER_DAY.items():
        prefix = PLATFORM_PREFIX[platform]
        number = 0
        for offset in range(DAYS):
            day = window_start + timedelta(days=offset)
            weekend = day.weekday() >= 5
            count = int(rng.poisson(per_day * (0.7 if weekend else 1.0)))
            texts = [
                MENTION_TEMPLATES[labels[int(rng.choice(3, p=MENTION_SENTIMENT))]]
                for _ in range(count)
            ]
            chosen = [t[int(rng.integers(len(t)))] for t in texts]
            in_spike = platform == "twitter" and 0 <= (day - spike_start).days < SPIKE_DAYS
            if in_spike:
                chosen += [
                    SPIKE_TEMPLATES[int(rng.integers(len(SPIKE_TEMPLATES)))]
                    for _ in range(SPIKE_EXTRA_NEGATIVE)
                ]
            for template in chosen:
                number += 1
                handle = customers[int(rng.integers(len(customers)))]
                text = template.format(product=rng.choice(PRODUCTS))
                if rng.random() < 0.02:
                    snippet = CONTACT_SNIPPETS[int(rng.integers(len(CONTACT_SNIPPETS)))]
                    text += snippet.format(name=handle, n=int(rng.integers(1000)))
                likes = int(rng.poisson(3))
                rows.append(
                    {
                        "post_id": f"{prefix}-m{number:06d}",
                        "platform": platform,
                        "account": handle,
                        "text": text,
                        "posted_at": _stamp(
                            day, int(rng.integers(6, 24)), int(rng.integers(0, 60))
                        ),
                        "followers": int(rng.integers(50, 3000)),
                        "likes": likes,
                        "comments": int(rng.poisson(0.5)),
                        "shares": int(rng.poisson(0.3)),
                        "views": None,
                        "media_type": "none",
                        "media_path": None,
                        "campaign_id": None,
                    }
                )
    return rows


def _experiment_units(rng: np.random.Generator, spec: dict[str, Any]) -> list[tuple[Any, ...]]:
    units: list[tuple[Any, ...]] = []
    number = 0
    for variant, n in spec["variants"].items():
        pre = rng.gamma(2.0, 20.0, size=n)  # pre-period spend, correlated with revenue below
        clicked = rng.random(n) < spec["click_rate"][variant]
        converted = rng.random(n) < spec["conversion_rate"][variant]
        basket = rng.lognormal(np.log(60.0), 0.4, size=n) + 0.5 * pre
        revenue = np.where(converted, basket, 0.0)
        for i in range(n):
            number += 1
            units.append(
                (
                    spec["experiment_id"],
                    f"{spec['experiment_id']}-u{number:06d}",
                    variant,
                    float(clicked[i]),
                    float(converted[i]),
                    round(float(revenue[i]), 2),
                    round(float(pre[i]), 2),
                    spec["cost_per_unit"],
                )
            )
    return units


def build_demo(
    workspace: Workspace,
    pseudonymizer: Pseudonymizer,
    *,
    end_date: date,
    seed: int = 7,
    manifest_path: Path | None = None,
    post_index_dir: Path | None = None,
) -> DemoReport:
    """Write the demo brand into ``workspace`` (idempotent for the same seed and end date).

    Args:
        workspace: Target workspace; existing demo rows are kept, new ones added.
        pseudonymizer: The installation's pseudonymizer (handles are stored hashed).
        end_date: Last day of the six-month window (usually today, UTC).
        seed: Seed of the random generator.
        manifest_path: Where to save the manifest JSON (default: next to the workspace).
        post_index_dir: Where the similar-posts index of the brand's own posts is built
            or refreshed (default: ``post-index`` next to the workspace).

    Returns:
        The ingest report of the posts and the manifest of what was planted.
    """
    rng = np.random.default_rng(seed)
    window_start = end_date - timedelta(days=DAYS - 1)
    spike_start = end_date - timedelta(days=SPIKE_OFFSET_DAYS)
    rows = _brand_posts(rng, window_start) + _mentions(rng, window_start, spike_start)
    # Images for the image posts and their planted effect; own generator (see demo_media).
    rows, media = add_demo_media(
        rows, workspace.path.with_name(MEDIA_DIR_NAME), np.random.default_rng(seed + 3)
    )
    campaigns = [
        (
            cid,
            name,
            objective,
            window_start + timedelta(days=start),
            window_start + timedelta(days=end),
            budget,
            f"{name}: {objective}",
        )
        for cid, name, start, end, budget, objective in CAMPAIGNS
    ]
    with workspace.connect(wait=BATCH_LOCK_WAIT_SECONDS) as con:
        report = ingest_rows(
            con, enumerate(rows, start=1), source="demo:trailbird", pseudonymizer=pseudonymizer
        )
        con.executemany("INSERT OR IGNORE INTO campaigns VALUES (?, ?, ?, ?, ?, ?, ?)", campaigns)
        for spec in EXPERIMENTS:
            started = datetime.combine(end_date - timedelta(days=30), datetime.min.time())
            con.execute(
                "INSERT OR IGNORE INTO experiments VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    spec["experiment_id"],
                    spec["name"],
                    spec["description"],
                    spec["control"],
                    spec["metrics"],
                    started,
                    started + timedelta(days=14),
                    "holiday-gifts",
                ],
            )
            units = pd.DataFrame(_experiment_units(rng, spec), columns=UNIT_COLUMNS)
            con.register("demo_units", units)
            try:
                con.execute("INSERT OR IGNORE INTO experiment_units SELECT * FROM demo_units")
            finally:
                con.unregister("demo_units")
        now = utc_now()
        con.executemany(
            "INSERT OR IGNORE INTO influencers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    f"inf-{handle}",
                    pseudonymizer.account(handle),
                    "instagram",
                    followers,
                    posts,
                    avg_likes,
                    round(avg_likes / followers, 5),
                    country,
                    topics,
                    cost,
                    "demo:trailbird",
                    now,
                )
                for handle, followers, posts, avg_likes, country, topics, cost in INFLUENCERS
            ],
        )
        # Creators with posts for influencer ranking; their own generator so the
        # draws above and below do not shift when the creators change.
        creators = add_demo_creators(
            con, pseudonymizer, end_date=end_date, rng=np.random.default_rng(seed + 1)
        )
        support = add_demo_support(
            con,
            pseudonymizer,
            end_date=end_date,
            days=DAYS,
            spike_start=spike_start,
            spike_days=SPIKE_DAYS,
            rng=np.random.default_rng(seed + 2),
        )
        own = [pseudonymizer.account(BRAND_HANDLE)]
        manifest = {
            "brand": BRAND,
            "seed": seed,
            "window": {"start": window_start.isoformat(), "end": end_date.isoformat()},
            "own_accounts": own,
            "platforms": list(PLATFORM_PREFIX),
            "engagement_effects": {
                "weekday": list(WEEKDAY_EFFECT),
                "media": MEDIA_EFFECT,
                "evening_hours": [EVENING_HOURS.start, EVENING_HOURS.stop - 1],
                "evening_effect": EVENING_EFFECT,
                "morning_hours": [MORNING_HOURS.start, MORNING_HOURS.stop - 1],
                "morning_effect": MORNING_EFFECT,
            },
            "mention_sentiment_mix": dict(
                zip(("negative", "neutral", "positive"), MENTION_SENTIMENT, strict=True)
            ),
            "weekend_mention_volume": 0.7,
            "sentiment_spike": {
                "platform": "twitter",
                "start": spike_start.isoformat(),
                "end": (spike_start + timedelta(days=SPIKE_DAYS - 1)).isoformat(),
                "extra_negative_per_day": SPIKE_EXTRA_NEGATIVE,
                "theme_terms": list(SPIKE_TERMS),
                "cause": "soles peeling off the shoes (a product defect)",
            },
            "campaigns": [c[0] for c in CAMPAIGNS],
            "experiments": {s["experiment_id"]: s["effect"] for s in EXPERIMENTS},
            "influencers": [f"inf-{h[0]}" for h in INFLUENCERS],
            "creators": creators,
            "support": support,
            "media": media,
        }
        set_meta(con, "own_accounts", own)
        set_meta(con, "brand", BRAND)
        set_meta(con, "support_contact", SUPPORT_CONTACT)
        set_meta(con, "brand_terms", [BRAND, pseudonymizer.mention(BRAND_HANDLE)])
        set_meta(con, "demo_manifest", manifest)
    path = manifest_path or workspace.path.with_name("demo-manifest.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2))
    from knowledge import PostIndex  # the encoder stack loads only when a demo is built

    post_index = PostIndex.update(workspace, post_index_dir)
    return DemoReport(posts=report, manifest=manifest, manifest_path=path, post_index=post_index)
