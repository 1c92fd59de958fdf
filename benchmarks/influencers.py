"""Influencer ranking validation: shrinkage on the Top-200 file, a simulation, the planted demo.

Run: ``python -m benchmarks.influencers`` (needs ../shared/data or $BEACON_DATA_DIR).
Prints its findings, writes docs/benchmarks/influencers.json and renders
docs/benchmarks/influencers.md from it (``--out`` elsewhere); baselines (plain averages)
are measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analytics.influencers import (
    DEFAULT_POST_LOG_SD,
    EngagementObservation,
    EngagementShrinker,
    load_creators_from_workspace,
    load_top200,
    observe_engagement,
    rank_creators,
)
from benchmarks._report import Run, add_out_argument

SEED = 20260
FEW_POSTS = 4  # "rests on few posts": the direction check looks at creators with at most this many
MOVERS = 10  # rows of the table of the largest rank changes


def data_dir() -> Path:
    env = os.environ.get("BEACON_DATA_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        raise SystemExit(f"real data not found at {path}; set BEACON_DATA_DIR")
    return path


def post_log_sd(root: Path) -> dict[str, Any]:
    frame = pd.read_csv(root / "engagement/instagram/instagram-likes-followers.csv")
    frame = frame[(frame.likes > 0) & (frame.follower_count_at_t > 0)]
    frame = frame.assign(y=np.log(frame.likes / frame.follower_count_at_t))
    groups = frame.groupby("follower_count_at_t")["y"].agg(["count", "var"])
    groups = groups[groups["count"] >= 5]
    pooled = np.sqrt(((groups["count"] - 1) * groups["var"]).sum() / (groups["count"] - 1).sum())
    print("## Post-to-post SD of log engagement (instagram-likes-followers.csv)")
    print(
        f"accounts: {len(groups)}, posts: {int(groups['count'].sum())}, pooled SD: {pooled:.3f}\n"
    )
    return {
        "accounts": len(groups),
        "posts": int(groups["count"].sum()),
        "pooled_sd": float(pooled),
        "default_in_code": DEFAULT_POST_LOG_SD,
    }


def top200(root: Path) -> tuple[list[EngagementObservation], dict[str, Any]]:
    creators, rejected = load_top200(root / "influencers/top_insta_influencers_data.csv")
    print("## Top-200 file")
    print(
        f"read {len(creators) + len(rejected)} = valid {len(creators)} + quarantined {len(rejected)}"
    )
    for line, reason, _ in rejected:
        print(f"  line {line}: {reason}")
    print(f"blank countries: {sum(c.country is None for c in creators)}")
    as_of = datetime(2022, 1, 1)
    obs = [o for c in creators if (o := observe_engagement(c, as_of=as_of))]
    shrinker = EngagementShrinker().fit(obs)
    est = [shrinker.estimate(o) for o in obs]
    raw = np.array([e.raw_rate for e in est])
    shrunk = np.array([e.rate for e in est])
    n = np.array([o.n for o in obs])
    raw_rank, shrunk_rank = stats.rankdata(-raw, "ordinal"), stats.rankdata(-shrunk, "ordinal")
    change = shrunk_rank - raw_rank
    print(
        f"tier mean (mega): {100 * est[0].tier_rate:.2f}%, between-creator log SD "
        f"{np.sqrt(shrinker.tau2_):.2f}, post log SD {np.sqrt(shrinker.sigma2_):.2f}"
    )
    print(
        f"evidence posts per creator: median {np.median(n):.0f}, "
        f"{int((n <= 2).sum())} creators with <= 2"
    )
    print(
        f"creators whose rank changed: {int((change != 0).sum())}; max |change|: {np.abs(change).max()}"
    )
    rho = stats.spearmanr(np.abs(change), n)
    print(f"Spearman(|rank change|, evidence posts) = {rho.statistic:.2f} (p = {rho.pvalue:.2g})")
    above = raw > est[0].tier_rate
    few = n <= FEW_POSTS
    print(
        f"direction, creators with <= {FEW_POSTS} evidence posts ({int(few.sum())}): above the tier mean "
        f"moved down {int((few & above & (change > 0)).sum())}, up {int((few & above & (change < 0)).sum())}; "
        f"below it moved up {int((few & ~above & (change < 0)).sum())}, down "
        f"{int((few & ~above & (change > 0)).sum())}"
    )
    order = np.argsort(-np.abs(change))[:MOVERS]
    print(
        "| handle | lifetime posts | evidence posts | raw 60-day ER | shrunk ER | raw rank | shrunk rank |"
    )
    print("|---|---|---|---|---|---|---|")
    handles = [o.creator_id.removeprefix("top200-") for o in obs]
    posts = {c.creator_id: c.posts_count for c in creators}
    for i in order:
        print(
            f"| {handles[i]} | {posts[obs[i].creator_id]} | {n[i]} | {100 * raw[i]:.2f}% | "
            f"{100 * shrunk[i]:.2f}% | {raw_rank[i]} | {shrunk_rank[i]} |"
        )
    print()
    return obs, {
        "read": len(creators) + len(rejected),
        "valid": len(creators),
        "quarantined": [{"line": line, "reason": reason} for line, reason, _ in rejected],
        "blank_countries": sum(c.country is None for c in creators),
        "tier": obs[0].tier,
        "tiers": sorted({o.tier for o in obs}),
        "tier_rate": est[0].tier_rate,
        "between_creator_log_sd": float(np.sqrt(shrinker.tau2_)),
        "post_log_sd": float(np.sqrt(shrinker.sigma2_)),
        "evidence_posts_median": float(np.median(n)),
        "evidence_posts_le_2": int((n <= 2).sum()),
        "raw_rate_min": float(raw.min()),
        "raw_rate_max": float(raw.max()),
        "rank_changed": int((change != 0).sum()),
        "max_abs_rank_change": int(np.abs(change).max()),
        "spearman_abs_change_vs_evidence": {"rho": rho.statistic, "p": rho.pvalue},
        "few_posts": FEW_POSTS,
        "direction_few_posts": {
            "creators": int(few.sum()),
            "above_moved_down": int((few & above & (change > 0)).sum()),
            "above_moved_up": int((few & above & (change < 0)).sum()),
            "below_moved_up": int((few & ~above & (change < 0)).sum()),
            "below_moved_down": int((few & ~above & (change > 0)).sum()),
        },
        "largest_moves": [
            {
                "handle": handles[i],
                "lifetime_posts": posts[obs[i].creator_id],
                "evidence_posts": int(n[i]),
                "raw_rate": float(raw[i]),
                "shrunk_rate": float(shrunk[i]),
                "raw_rank": int(raw_rank[i]),
                "shrunk_rank": int(shrunk_rank[i]),
            }
            for i in order
        ],
    }


def simulation(obs: list[EngagementObservation], reps: int = 200) -> dict[str, Any]:
    """True rates = the file's rates; each creator observed through 3-30 noisy posts."""
    rng = np.random.default_rng(SEED)
    true = np.array([o.raw_rate for o in obs if o.raw_rate > 0])
    sd = DEFAULT_POST_LOG_SD
    metrics: dict[str, list[float]] = {
        k: [] for k in ("rho_raw", "rho_eb", "top20_raw", "top20_eb", "mae_raw", "mae_eb")
    }
    top_true = set(np.argsort(-true)[:20])
    for _ in range(reps):
        n = rng.integers(3, 30 + 1, size=len(true))
        sims = []
        for i, rate in enumerate(true):
            logs = np.log(rate) - sd**2 / 2 + rng.normal(0.0, sd, n[i])
            sims.append(
                EngagementObservation(
                    creator_id=str(i),
                    tier="mega",
                    raw_rate=float(np.exp(logs).mean()),
                    log_mean=float(logs.mean()),
                    log_var=float(logs.var(ddof=1)),
                    n=int(n[i]),
                    from_posts=True,
                )
            )
        shrinker = EngagementShrinker().fit(sims)
        raw = np.array([s.raw_rate for s in sims])
        eb = np.array([shrinker.estimate(s).rate for s in sims])
        metrics["rho_raw"].append(stats.spearmanr(raw, true).statistic)
        metrics["rho_eb"].append(stats.spearmanr(eb, true).statistic)
        metrics["top20_raw"].append(len(top_true & set(np.argsort(-raw)[:20])) / 20)
        metrics["top20_eb"].append(len(top_true & set(np.argsort(-eb)[:20])) / 20)
        metrics["mae_raw"].append(float(np.mean(np.abs(np.log(raw / true)))))
        metrics["mae_eb"].append(float(np.mean(np.abs(np.log(eb / true)))))
    m = {k: float(np.mean(v)) for k, v in metrics.items()}
    print(f"## Simulation: Top-200 rates as truth, 3-30 posts each, post log SD {sd}, {reps} runs")
    print("| estimate | Spearman with truth | top-20 overlap | mean abs log error |")
    print("|---|---|---|---|")
    print(
        f"| plain average (baseline) | {m['rho_raw']:.3f} | {m['top20_raw']:.3f} | {m['mae_raw']:.3f} |"
    )
    print(f"| EB shrunk | {m['rho_eb']:.3f} | {m['top20_eb']:.3f} | {m['mae_eb']:.3f} |")
    print(f"error ratio EB / plain: {m['mae_eb'] / m['mae_raw']:.2f}\n")
    return {
        "reps": reps,
        "creators": len(true),
        "posts_min": 3,
        "posts_max": 30,
        "post_log_sd": sd,
        **m,
        "error_ratio": m["mae_eb"] / m["mae_raw"],
    }


def demo() -> dict[str, Any]:
    import torch

    from beacon.demo import add_demo_creators, build_demo
    from foundation.workspace import Pseudonymizer, Workspace

    torch.set_num_threads(2)
    end = date(2026, 11, 30)
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Workspace(Path(tmp) / "w.duckdb")
        pseudonymizer = Pseudonymizer(b"benchmark")
        build_demo(workspace, pseudonymizer, end_date=end, manifest_path=Path(tmp) / "m.json")
        with workspace.connect() as con:
            manifest = add_demo_creators(
                con, pseudonymizer, end_date=end, rng=np.random.default_rng(SEED)
            )
        with workspace.connect(read_only=True) as con:
            creators = load_creators_from_workspace(con)
    from analytics.embeddings import get_encoder

    start = time.perf_counter()
    get_encoder()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    ranking = rank_creators(creators, "trail running shoes", top_k=5)
    rank_s = time.perf_counter() - start
    items = {i.creator_id: i for i in ranking.ranked}
    fakes = set(manifest["fake_engagement"])
    flagged = {cid for cid, i in items.items() if i.flags}
    planted = set(manifest["creators"])
    print("## Demo workspace (planted structure)")
    print(
        f"creators: {len(creators)} ({len(planted)} planted with posts), rank time {rank_s:.1f} s (encoder load {load_s:.1f} s)"
    )
    print(
        f"fake-engagement creators flagged: {len(fakes & flagged)}/{len(fakes)}; "
        f"honest planted creators flagged: {len((planted - fakes) & flagged)}/{len(planted - fakes)}"
    )
    lucky = items[manifest["lucky_small"]].engagement
    peers = [items[c].engagement for c in manifest["steady_peers_of_lucky"]]
    assert lucky is not None and all(peers)
    raw_place = 1 + sum(p.raw_rate > lucky.raw_rate for p in peers if p)
    eb_place = 1 + sum(p.rate > lucky.rate for p in peers if p)
    print(
        f"lucky small creator: raw {100 * lucky.raw_rate:.1f}% (place {raw_place} of {len(peers) + 1} in its tier group) "
        f"-> shrunk {100 * lucky.rate:.1f}% (place {eb_place}), 95% interval {100 * lucky.low:.1f}-{100 * lucky.high:.1f}%"
    )
    niches = {c.creator_id: c.topics for c in creators}
    print("top 5 niches:", [niches[i.creator_id] for i in ranking.items])
    for item in ranking.items:
        print("  ", item.reason_line())
    print("why:", ranking.explain_pair(1, 2))
    flagged_items = [item for item in ranking.ranked if item.flags]
    return {
        "brief": "trail running shoes",
        "creators": len(creators),
        "planted": len(planted),
        "rank_s": rank_s,
        "encoder_load_s": load_s,
        "fakes": len(fakes),
        "fakes_flagged": len(fakes & flagged),
        "honest_planted": len(planted - fakes),
        "honest_planted_flagged": len((planted - fakes) & flagged),
        "flagged": [
            {
                "handle": item.creator.handle,
                "fake": item.creator.creator_id in fakes,
                "planted": item.creator.creator_id in planted,
                "flags": [flag.kind for flag in item.flags],
            }
            for item in flagged_items
        ],
        "lucky": {
            "raw_rate": lucky.raw_rate,
            "raw_place": raw_place,
            "group_size": len(peers) + 1,
            "shrunk_rate": lucky.rate,
            "shrunk_place": eb_place,
            "low": lucky.low,
            "high": lucky.high,
        },
        "top_niches": [niches[i.creator_id] for i in ranking.items],
        "reasons": [item.reason_line() for item in ranking.items],
        "why_first_over_second": ranking.explain_pair(1, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_argument(parser, "influencers")
    args = parser.parse_args()
    root = data_dir()
    with Run("influencers", out=args.out, packages=("scipy", "numpy", "torch")) as run:
        spread = post_log_sd(root)
        obs, top = top200(root)
        run.results = {
            "post_log_sd": spread,
            "top200": top,
            "simulation": simulation(obs),
            "demo": demo(),
        }


if __name__ == "__main__":
    main()
