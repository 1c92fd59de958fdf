"""The digest's results: one frozen dataclass per section, each able to say itself in words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from analytics.anomalies import AnomalyReport
from analytics.listening import SentimentSummary, ShareChange
from analytics.sentiment import LABELS
from beacon.digest._week import IsoWeek
from foundation.workspace import platform_name

#: A trait "matters" when posts with it usually get at least this multiple of the typical
#: rate (or at most its inverse).
DRIVER_EFFECT = 1.2


def pct(value: float, digits: int = 0) -> str:
    """A fraction as a percentage: ``0.571`` → ``57%``."""
    return f"{100 * value:.{digits}f}%"


def rate_pct(rate: float) -> str:
    """An engagement rate with enough digits: ``0.0412`` → ``4.12%``, ``0.0051`` → ``0.51%``."""
    return f"{100 * rate:.2f}%"


@dataclass(frozen=True)
class RateChange:
    """Ratio of two counts or typical values (this week / previous week) with a 95% interval.

    Attributes:
        ratio: This week's value divided by the previous week's.
        low: Lower end of the 95% interval of the ratio.
        high: Upper end.
        method: How the interval was made (for the audit trail).
    """

    ratio: float
    low: float
    high: float
    method: str

    @property
    def significant(self) -> bool:
        """True when the interval excludes 1 (no change)."""
        return self.low > 1 or self.high < 1

    def text(self) -> str:
        """``+12% (95% CI +3% to +22%), beyond noise``."""
        verdict = "beyond noise" if self.significant else "within noise"
        return (
            f"{self.ratio - 1:+.0%} (95% CI {self.low - 1:+.0%} to {self.high - 1:+.0%}), {verdict}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ratio": self.ratio,
            "low": self.low,
            "high": self.high,
            "significant": self.significant,
            "method": self.method,
        }


# ----------------------------------------------------------------------------- volume
@dataclass(frozen=True)
class VolumeRow:
    """Posts on one platform (or ``all``) this week and the week before.

    Attributes:
        platform: Platform name, or ``all``.
        brand_posts: Posts about the brand by others (the listening selection).
        previous_brand_posts: The same, previous week.
        own_posts: Posts by the brand's own accounts.
        previous_own_posts: The same, previous week.
        change: Brand-talk rate ratio with its Poisson interval (None when a week has none).
    """

    platform: str
    brand_posts: int
    previous_brand_posts: int
    own_posts: int
    previous_own_posts: int
    change: RateChange | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "brand_posts": self.brand_posts,
            "previous_brand_posts": self.previous_brand_posts,
            "own_posts": self.own_posts,
            "previous_own_posts": self.previous_own_posts,
            "change": self.change.to_dict() if self.change else None,
        }


@dataclass(frozen=True)
class VolumeSection:
    """Post volume per platform; ``total`` sums the platforms."""

    rows: tuple[VolumeRow, ...]
    total: VolumeRow
    daily: Mapping[str, Mapping[str, int]] = field(repr=False)  # ISO day -> platform -> posts

    def headline(self) -> str:
        t = self.total
        change = f", {t.change.text()}" if t.change else ""
        return (
            f"{t.brand_posts:,} posts about the brand vs {t.previous_brand_posts:,} the week "
            f"before{change}; our own accounts posted {t.own_posts:,} times "
            f"(vs {t.previous_own_posts:,})."
        )

    def lines(self) -> list[str]:
        out = [self.headline()]
        for row in self.rows:
            change = f", {row.change.text()}" if row.change else ""
            out.append(
                f"{platform_name(row.platform)}: {row.brand_posts:,} about the brand "
                f"(vs {row.previous_brand_posts:,}{change}); own posts {row.own_posts:,} "
                f"(vs {row.previous_own_posts:,})."
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict(),
            "daily": {d: dict(v) for d, v in self.daily.items()},
        }


# -------------------------------------------------------------------------- sentiment
@dataclass(frozen=True)
class SentimentSection:
    """Brand sentiment this week vs the week before (analytics.listening)."""

    summary: SentimentSummary
    daily: Mapping[str, Mapping[str, int]] = field(repr=False)  # ISO day -> label -> posts

    def headline(self) -> str:
        s = self.summary
        if not s.total:
            return "No scored posts about the brand this week."
        shares = ", ".join(f"{pct(s.share(label))} {label}" for label in reversed(LABELS))
        moved = [c for c in s.changes if c.significant]
        if not s.changes:
            tail = "nothing to compare with the week before."
        elif moved:
            tail = (
                "; ".join(
                    f"{c.label} {'up' if c.points > 0 else 'down'} {abs(c.points):.1f} points "
                    f"(95% CI {c.ci_low:+.1f} to {c.ci_high:+.1f})"
                    for c in moved
                )
                + " vs the week before, beyond noise."
            )
        else:
            tail = "no share moved beyond noise vs the week before."
        return f"{shares} of {s.total:,} posts about the brand; {tail}"

    def lines(self) -> list[str]:
        s = self.summary
        out = [self.headline()]
        for c in s.changes:
            flag = "beyond noise" if c.significant else "within noise"
            out.append(
                f"{c.label}: {pct(s.share(c.label))} vs {pct(s.previous_share(c.label))}, "
                f"{c.points:+.1f} points (95% CI {c.ci_low:+.1f} to {c.ci_high:+.1f}), {flag}."
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        data = self.summary.to_dict()
        data["changes"] = [
            {
                "label": c.label,
                "points": c.points,
                "ci_low": c.ci_low,
                "ci_high": c.ci_high,
                "significant": c.significant,
            }
            for c in self.summary.changes
        ]
        data["daily"] = {d: dict(v) for d, v in self.daily.items()}
        return data


# ------------------------------------------------------------------------- engagement
@dataclass(frozen=True)
class Driver:
    """An observable trait of a post and how posts with it usually do on that platform.

    Attributes:
        trait: ``media``, ``weekday`` or ``time of day``.
        value: The post's value ("video", "Saturday", "evening (17–20 UTC)").
        multiplier: Median rate of baseline posts with the value / median of all baseline posts.
        posts: Baseline posts with the value.
    """

    trait: str
    value: str
    multiplier: float
    posts: int

    def text(self) -> str:
        return f"{self.value} ({self.multiplier:.2f}× typical, {self.posts} earlier posts)"


@dataclass(frozen=True)
class PostHighlight:
    """The best or worst own post of the week, relative to its platform's typical post.

    Attributes:
        post_id: The post.
        platform: Its platform.
        posted_at: When (UTC).
        media_type: none, image, video or link.
        text: The post text.
        engagements: Likes + comments + shares.
        followers: Followers at posting time.
        rate: ``engagements / followers``.
        typical_rate: Median rate of the platform's own posts in the baseline weeks.
        relative: ``rate / typical_rate``.
        drivers: Its observable traits with how such posts usually do.
        model_text: The engagement model's explanation (None when no model was given).
    """

    post_id: str
    platform: str
    posted_at: datetime
    media_type: str
    text: str
    engagements: int
    followers: int
    rate: float
    typical_rate: float
    relative: float
    drivers: tuple[Driver, ...]
    model_text: str | None = None

    def why(self) -> str:
        """The observable drivers (and the model's view) in one or two sentences."""
        traits = "; ".join(d.text() for d in self.drivers)
        out = f"On {platform_name(self.platform)}, posts like it: {traits}." if traits else ""
        gap = self.relative >= DRIVER_EFFECT or self.relative <= 1 / DRIVER_EFFECT
        explained = any(
            d.multiplier >= DRIVER_EFFECT or d.multiplier <= 1 / DRIVER_EFFECT for d in self.drivers
        )
        if traits and gap and not explained:
            out += (
                " None of these traits usually moves the rate by 20% or more, so the wording, "
                "the image or chance explain this post better than its format or timing."
            )
        if self.model_text:
            out += " Engagement model: " + " ".join(
                line.removeprefix("- ") for line in self.model_text.split("\n")
            )
        return out.strip()

    def line(self, kind: str) -> str:
        return (
            f"{kind} post: {self.post_id} on {platform_name(self.platform)} "
            f"({self.posted_at:%a %d %b %H:%M} UTC, {self.media_type}): "
            f"{rate_pct(self.rate)} engagement rate ({self.engagements:,} likes+comments+shares), "
            f"{self.relative:.2f}× the typical {platform_name(self.platform)} post "
            f"({rate_pct(self.typical_rate)})."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "post_id": self.post_id,
            "platform": self.platform,
            "posted_at": self.posted_at.isoformat(),
            "media_type": self.media_type,
            "text": self.text,
            "engagements": self.engagements,
            "followers": self.followers,
            "rate": self.rate,
            "typical_rate": self.typical_rate,
            "relative": self.relative,
            "drivers": [d.__dict__ for d in self.drivers],
            "model_text": self.model_text,
        }


@dataclass(frozen=True)
class EngagementRow:
    """Our own posts on one platform: typical engagement rate this week vs the week before.

    Rates are geometric means of ``(likes + comments + shares) / followers`` per post;
    the change is their ratio with a Welch 95% interval on the log scale.
    """

    platform: str
    posts: int
    previous_posts: int
    rate: float | None
    previous_rate: float | None
    change: RateChange | None

    def line(self) -> str:
        if self.rate is None:
            return f"{platform_name(self.platform)}: no own posts with follower counts this week."
        before = (
            f" vs {rate_pct(self.previous_rate)} ({self.previous_posts} posts)"
            if self.previous_rate is not None
            else " (none the week before)"
        )
        change = f", {self.change.text()}" if self.change else ""
        return (
            f"{platform_name(self.platform)}: typical engagement rate {rate_pct(self.rate)} "
            f"over {self.posts} posts{before}{change}."
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "posts": self.posts,
            "previous_posts": self.previous_posts,
            "rate": self.rate,
            "previous_rate": self.previous_rate,
            "change": self.change.to_dict() if self.change else None,
        }


@dataclass(frozen=True)
class EngagementSection:
    """Engagement of our own posts.

    Attributes:
        rows: One per platform with own posts in either week.
        best: The week's post furthest above its platform's typical rate.
        worst: The week's post furthest below it.
        baseline_weeks: Weeks before this one that define "typical" and the drivers.
        without_followers: Own posts of the week left out for lack of a follower count.
        model_version: The engagement model that explained best and worst, or None.
    """

    rows: tuple[EngagementRow, ...]
    best: PostHighlight | None
    worst: PostHighlight | None
    baseline_weeks: int
    without_followers: int = 0
    model_version: str | None = None

    def headline(self) -> str:
        rated = [r for r in self.rows if r.rate is not None]
        if not rated:
            return "Our own accounts published nothing with a follower count this week."
        parts = []
        for r in rated:
            move = ""
            if r.change is not None:
                move = f" ({r.change.ratio - 1:+.0%}{'' if r.change.significant else ', noise'})"
            parts.append(f"{platform_name(r.platform)} {rate_pct(r.rate or 0)}{move}")
        return "Typical engagement rate of our posts: " + ", ".join(parts) + "."

    def lines(self) -> list[str]:
        out = [r.line() for r in self.rows]
        for kind, post in (("Best", self.best), ("Worst", self.worst)):
            if post is not None:
                out.append(post.line(kind) + (" Why: " + post.why() if post.why() else ""))
        if self.without_followers:
            out.append(
                f"{self.without_followers} own posts had no follower count and were left out."
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [r.to_dict() for r in self.rows],
            "best": self.best.to_dict() if self.best else None,
            "worst": self.worst.to_dict() if self.worst else None,
            "baseline_weeks": self.baseline_weeks,
            "without_followers": self.without_followers,
            "model_version": self.model_version,
        }


# ------------------------------------------------------------------------ experiments
@dataclass(frozen=True)
class ExperimentOutcome:
    """One experiment that ended this week, analysed (analytics.experiments).

    Attributes:
        experiment_id: Workspace id.
        name: Its name.
        started: First day.
        ended: Last day (``experiments.ended_at``).
        units: Units analysed.
        verdict: ``winner``, ``loser``, ``no_effect`` or ``srm`` (assignment broken).
        winners: Variants whose lift's 95% interval lies above zero on some metric.
        metric_lines: One sentence per metric and variant.
        warnings: The analysis's warnings (SRM, too little data).
    """

    experiment_id: str
    name: str
    started: date | None
    ended: date
    units: int
    verdict: str
    winners: tuple[str, ...]
    control: str
    metric_lines: tuple[str, ...]
    warnings: tuple[str, ...]

    def line(self) -> str:
        if self.verdict == "srm":
            verdict = "don't act on it: the assignment was broken (sample-ratio mismatch)."
        elif self.verdict == "winner":
            verdict = f"{', '.join(self.winners)} beat {self.control}."
        elif self.verdict == "loser":
            verdict = f"{self.control} beat the other variant(s)."
        else:
            verdict = f"no variant beat {self.control}; no clear effect."
        return f"{self.name} (ended {self.ended:%d %b}, {self.units:,} units): {verdict}"

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["started"] = self.started.isoformat() if self.started else None
        data["ended"] = self.ended.isoformat()
        return data


@dataclass(frozen=True)
class ExperimentsSection:
    """Experiments whose ``ended_at`` falls in the week."""

    concluded: tuple[ExperimentOutcome, ...]
    previous_week: int

    def headline(self) -> str:
        if not self.concluded:
            return f"No experiment ended this week ({self.previous_week} the week before)."
        return " ".join(o.line() for o in self.concluded)

    def lines(self) -> list[str]:
        if not self.concluded:
            return [self.headline()]
        out = []
        for o in self.concluded:
            out.append(o.line())
            out += [f"  {w}" for w in o.warnings]
            out += [f"  {m}" for m in o.metric_lines]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "concluded": [o.to_dict() for o in self.concluded],
            "previous_week": self.previous_week,
        }


# -------------------------------------------------------------------------- anomalies
@dataclass(frozen=True)
class AnomaliesSection:
    """Unusual days of the week (analytics.anomalies) and the previous week's alert count."""

    report: AnomalyReport
    previous_alerts: int

    def headline(self) -> str:
        alerts = self.report.alerts
        if not alerts:
            return (
                f"Nothing unusual in volume or negative share ({self.previous_alerts} alerts the "
                "week before)."
            )
        strongest = alerts[0].text().split(" Example:")[0]
        return (
            f"{len(alerts)} unusual {'change' if len(alerts) == 1 else 'changes'} "
            f"({self.previous_alerts} the week before); the strongest: {strongest}"
        )

    def lines(self) -> list[str]:
        if not self.report.alerts:
            return [self.headline()]
        return [a.text() for a in self.report.alerts]

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict() | {"previous_alerts": self.previous_alerts}


# --------------------------------------------------------------------------- creators
@dataclass(frozen=True)
class CreatorMention:
    """A tracked creator who mentioned the brand this week.

    Attributes:
        creator_id: ``influencers.influencer_id``.
        handle: Display handle (pseudonyms shortened).
        platform: The creator's platform.
        followers: Latest follower count, when known.
        mentions: Their posts mentioning the brand this week.
        post_ids: Those posts.
        example: The text of the most engaging one.
        engagements: Likes + comments + shares of those posts together.
        rate: Engagement rate shrunk toward the follower tier (analytics.influencers).
        low: Lower end of its 95% interval.
        high: Upper end.
        tier: Follower tier.
        flags: Authenticity flags, in words.
    """

    creator_id: str
    handle: str
    platform: str
    followers: int | None
    mentions: int
    post_ids: tuple[str, ...]
    example: str
    engagements: int
    rate: float | None
    low: float | None
    high: float | None
    tier: str
    flags: tuple[str, ...]

    def line(self) -> str:
        followers = f"{self.followers:,} followers, " if self.followers else ""
        rate = (
            f"shrunk engagement rate {rate_pct(self.rate)} (95% CI {rate_pct(self.low or 0)}–"
            f"{rate_pct(self.high or 0)}, {self.tier} tier)"
            if self.rate is not None
            else "no engagement estimate"
        )
        flags = f" ⚠ {'; '.join(self.flags)}." if self.flags else ""
        return (
            f"{self.handle} ({platform_name(self.platform)}, {followers}{rate}): "
            f"{self.mentions} {'post' if self.mentions == 1 else 'posts'} mentioning us "
            f"({', '.join(self.post_ids)}; {self.engagements:,} likes+comments+shares), "
            f'e.g. "{_clip(self.example)}".{flags}'
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CreatorsSection:
    """Tracked creators (``influencers``) whose posts this week mention the brand."""

    mentions: tuple[CreatorMention, ...]
    previous_creators: int
    tracked: int
    posted: int

    def headline(self) -> str:
        if not self.mentions:
            return (
                f"None of the {self.tracked} tracked creators mentioned us this week "
                f"({self.posted} posted; {self.previous_creators} mentioned us the week before)."
            )
        names = ", ".join(m.handle for m in self.mentions)
        return (
            f"{len(self.mentions)} tracked {'creator' if len(self.mentions) == 1 else 'creators'} "
            f"mentioned us ({self.previous_creators} the week before): {names}."
        )

    def lines(self) -> list[str]:
        return [self.headline(), *(m.line() for m in self.mentions)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mentions": [m.to_dict() for m in self.mentions],
            "previous_creators": self.previous_creators,
            "tracked": self.tracked,
            "posted": self.posted,
        }


# ---------------------------------------------------------------------------- support
@dataclass(frozen=True)
class SupportSection:
    """Customer chats on the support widget (the ``support`` platform), this week vs last.

    Attributes:
        chats: Conversations with at least one customer message this week.
        previous_chats: The same the week before.
        messages: Customer messages this week.
        negative: Share of this week's messages the model calls negative (None: no messages).
        previous_negative: The same the week before.
        negative_change: The change with its 95% interval (None when a week had no messages).
        handoffs: Hand-offs to a person this week.
        undelivered_handoffs: Those that could not be posted to Slack (staff should look).
        ratings: Satisfaction ratings given this week.
        mean_rating: Their average (1-5), None when there were none.
        previous_mean_rating: The same the week before.
    """

    chats: int
    previous_chats: int
    messages: int
    negative: float | None
    previous_negative: float | None
    negative_change: ShareChange | None
    handoffs: int
    undelivered_handoffs: int
    ratings: int
    mean_rating: float | None
    previous_mean_rating: float | None

    def headline(self) -> str:
        if not self.chats:
            return f"No support chats this week ({self.previous_chats} the week before)."
        parts = [
            f"{self.chats} support {'chat' if self.chats == 1 else 'chats'} "
            f"({self.previous_chats} the week before)"
        ]
        if self.negative is not None:
            tone = f"{pct(self.negative)} of {self.messages} customer messages negative"
            change = self.negative_change
            if change is not None and self.previous_negative is not None:
                verdict = "beyond noise" if change.significant else "within noise"
                tone += f" ({pct(self.previous_negative)} before, {verdict})"
            parts.append(tone)
        if self.handoffs:
            handoffs = f"{self.handoffs} hand-off{'s' if self.handoffs != 1 else ''} to a person"
            if self.undelivered_handoffs:
                handoffs += f" ({self.undelivered_handoffs} not delivered to Slack)"
            parts.append(handoffs)
        if self.mean_rating is not None:
            parts.append(f"average rating {self.mean_rating:.1f}/5 from {self.ratings}")
        return "; ".join(parts) + "."

    def lines(self) -> list[str]:
        return [self.headline()]

    def to_dict(self) -> dict[str, Any]:
        value = {k: v for k, v in self.__dict__.items() if k != "negative_change"}
        change = self.negative_change
        value["negative_change"] = (
            None
            if change is None
            else {
                "points": change.points,
                "ci_low": change.ci_low,
                "ci_high": change.ci_high,
                "significant": change.significant,
            }
        )
        return value


# ---------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class RecommendedAction:
    """One thing to do, from one finding.

    Attributes:
        text: What to do and why, with the numbers.
        finding: The section it comes from (``sentiment``, ``anomalies``, ...).
        rule: Name of the rule that fired (for the audit trail).
    """

    text: str
    finding: str
    rule: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ActionsSection:
    """Recommended actions derived from the other sections."""

    items: tuple[RecommendedAction, ...]

    def headline(self) -> str:
        if not self.items:
            return "Nothing this week calls for action: no change beyond noise, alert or result."
        return f"{len(self.items)} recommended {'action' if len(self.items) == 1 else 'actions'}."

    def lines(self) -> list[str]:
        if not self.items:
            return [self.headline()]
        return [f"{item.text} (from: {item.finding})" for item in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {"items": [i.to_dict() for i in self.items]}


# ------------------------------------------------------------------------------ digest
@dataclass(frozen=True)
class Chart:
    """A PNG chart.

    Attributes:
        key: ``volume`` or ``sentiment``.
        title: Its title.
        alt: Alternative text saying what it shows, with the numbers.
        png: The image bytes.
    """

    key: str
    title: str
    alt: str
    png: bytes = field(repr=False)


SECTION_TITLES = {
    "volume": "Post volume",
    "sentiment": "Brand sentiment",
    "engagement": "Engagement of our posts",
    "experiments": "Experiments that ended",
    "anomalies": "Anomalies",
    "creators": "Creators who mentioned us",
    "support": "Support chats",
    "actions": "Recommended actions",
}
#: The sections that report the week's findings: every one but the recommended actions.
FINDINGS = tuple(key for key in SECTION_TITLES if key != "actions")
#: The dashboard view that shows each section's numbers (creators need a brief: none).
SECTION_VIEWS = {
    "volume": "brand",
    "sentiment": "brand",
    "engagement": "posts",
    "experiments": "experiments",
    "anomalies": "brand",
    "support": "support",
}
#: Makes a dashboard link: ``(view, filters) -> address`` (:func:`foundation.view_links.sign_link`).
Linker = Callable[[str, Mapping[str, str]], str]


@dataclass(frozen=True)
class Digest:
    """The weekly digest.

    Attributes:
        week: The week reported on.
        brand: The brand's name.
        generated_at: When it was built (UTC).
        sentiment_model: Scorer version whose labels were counted.
        volume, sentiment, engagement, experiments, anomalies, creators, support, actions:
            Sections.
        charts: PNG charts (volume by day, sentiment share by day).
        audit_ids: Section key → the ``audit`` row recording its inputs, sources and output.
        links: Section key → a signed link to the dashboard view with the week's numbers
            (:data:`SECTION_VIEWS`; empty when no dashboard is configured).
    """

    week: IsoWeek
    brand: str
    generated_at: datetime
    sentiment_model: str
    volume: VolumeSection
    sentiment: SentimentSection
    engagement: EngagementSection
    experiments: ExperimentsSection
    anomalies: AnomaliesSection
    creators: CreatorsSection
    support: SupportSection
    actions: ActionsSection
    charts: tuple[Chart, ...]
    audit_ids: Mapping[str, str]
    links: Mapping[str, str] = field(default_factory=dict)

    def section(self, key: str) -> Any:
        """The section called ``key`` (see :data:`SECTION_TITLES`)."""
        if key not in SECTION_TITLES:
            raise KeyError(f"no digest section {key!r}; sections: {list(SECTION_TITLES)}")
        return getattr(self, key)

    def chart(self, key: str) -> Chart:
        for chart in self.charts:
            if chart.key == key:
                return chart
        raise KeyError(f"no chart {key!r}; charts: {[c.key for c in self.charts]}")

    def summary_text(self) -> str:
        """The digest in a few plain lines (the bot's reply)."""
        lines = [
            f"{self.brand} weekly digest, {self.week.describe()}, vs {self.week.previous().label}:"
        ]
        for key in FINDINGS:
            lines.append(f"• {SECTION_TITLES[key]}: {self.section(key).headline()}")
        for kind, post in (("Best", self.engagement.best), ("Worst", self.engagement.worst)):
            if post is not None:
                lines.append(f"• {post.line(kind)}")
        if self.actions.items:
            lines.append("Recommended:")
            lines += [f"– {item.text}" for item in self.actions.items]
        else:
            lines.append(self.actions.headline())
        lines.append(
            f"Sources: workspace posts, scores ({self.sentiment_model}), experiments and creators; "
            f"every number is in the audit table (volume: {self.audit_ids.get('volume', '?')})."
        )
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the chart bytes)."""
        return {
            "week": self.week.label,
            "start": self.week.start.isoformat(),
            "end": self.week.end.isoformat(),
            "brand": self.brand,
            "generated_at": self.generated_at.isoformat(),
            "sentiment_model": self.sentiment_model,
            "sections": {key: self.section(key).to_dict() for key in SECTION_TITLES},
            "charts": [{"key": c.key, "title": c.title, "alt": c.alt} for c in self.charts],
            "audit_ids": dict(self.audit_ids),
        }


def _clip(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
