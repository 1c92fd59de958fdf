"""Plain-language formatting of ranked creators."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from analytics.influencers._types import RankedCreator

_PSEUDONYM = re.compile(r"^(?:acct|u)_([0-9a-f]{12})$")


def display_handle(handle: str) -> str:
    """``@name`` for a plain handle, ``@u_1a2b3c…`` for a pseudonym."""
    match = _PSEUDONYM.match(handle.lstrip("@"))
    if match:
        return f"@u_{match.group(1)[:6]}…"
    return f"@{handle.lstrip('@')}"


def pct(rate: float) -> str:
    """A rate as a percentage with sensible digits (0.031 -> '3.1%', 0.00021 -> '0.021%')."""
    value = 100.0 * rate
    if value >= 10:
        return f"{value:.0f}%"
    if value >= 0.1:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


def pct_range(low: float, high: float) -> str:
    """'2.6–3.6%'."""
    return f"{pct(low)[:-1]}–{pct(high)}"


def whole(value: float) -> str:
    """A count with thousands separators and two significant digits above 1,000."""
    if value >= 1000:
        digits = len(str(int(value))) - 2
        value = round(value, -digits)
    return f"{value:,.0f}"


def short_brief(brief: str, limit: int = 40) -> str:
    brief = " ".join(brief.split())
    return brief if len(brief) <= limit else brief[: limit - 1].rstrip() + "…"


def reason_line(item: RankedCreator) -> str:
    """The one-line summary of a ranked creator."""
    parts: list[str] = []
    if item.fit is not None:
        basis = "" if item.fit_basis == "posts" else f" (from {item.fit_basis})"
        parts.append(f"fit {item.fit:.2f} to '{short_brief(item.brief)}'{basis}")
    else:
        parts.append("fit unknown (no posts or topics)")
    e = item.engagement
    if e is not None:
        level = round(100 * e.level)
        parts.append(
            f"engagement {pct(e.rate)} (shrunk from {pct(e.raw_rate)}, {level}% interval "
            f"{pct_range(e.low, e.high)}; {e.tier} tier typical {pct(e.tier_rate)})"
        )
    else:
        parts.append("engagement unknown")
    s = item.sentiment
    if s is not None:
        who = "audience" if s.basis == "audience" else "own posts"
        parts.append(f"{who} {100 * s.positive:.0f}% positive ({s.n} texts)")
    c = item.consistency
    if c is not None:
        parts.append(f"{c.posts_per_week:.1f} posts/week")
    cost = item.cost
    if cost is not None:
        text = (
            f"~{whole(cost.per_1000)} engagements per 1,000 {cost.currency} "
            f"({whole(cost.low)}–{whole(cost.high)})"
        )
        if cost.posts_affordable is not None:
            text += f", budget buys {cost.posts_affordable} post{'s' if cost.posts_affordable != 1 else ''}"
        parts.append(text)
    flags = "; ".join(f"⚠ {f.message}" for f in item.flags) if item.flags else "no flags"
    return f"{item.creator.display} — {', '.join(parts)}; {flags}"


def details(item: RankedCreator, names: dict[str, str]) -> str:
    """Everything behind one creator's place, for "tell me more about the third".

    Args:
        item: The ranked creator.
        names: Plain names of the score's components (``COMPONENT_NAMES``).
    """
    c = item.creator
    followers = c.latest_followers()
    who = f"#{item.position} {c.display} on {c.platform}" + (
        f", {whole(followers)} followers" if followers else ""
    )
    lines = [f"{who}: score {item.score:.3f}.", reason_line(item)]
    if item.contributions:
        parts = sorted(item.contributions.items(), key=lambda kv: -kv[1])
        lines.append(
            "Where the score comes from (weighted points): "
            + "; ".join(f"{names.get(k, k)} {v:.3f}" for k, v in parts)
            + "."
        )
    if item.flags:
        lines.append(
            f"Authenticity flags multiply the score by {item.flag_multiplier:.2f}: "
            + "; ".join(f.message for f in item.flags)
            + "."
        )
    if item.similar_to:
        lines.append(
            f"Its posts are {item.similarity:.2f} similar to a creator placed above it, "
            "which the diversity rule weighs against repeating one niche."
        )
    recent = [p for p in c.posts[-3:] if p.text]
    if recent:
        lines.append("Recent posts: " + " | ".join(f"“{short_brief(p.text, 80)}”" for p in recent))
    return "\n".join(lines)
