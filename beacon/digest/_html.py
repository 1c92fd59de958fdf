"""The digest as one self-contained, accessible HTML page (charts as base64 data URIs)."""

from __future__ import annotations

import base64
from html import escape

from beacon.digest._types import (
    SECTION_TITLES,
    Chart,
    Digest,
    PostHighlight,
    RateChange,
    pct,
    rate_pct,
)
from foundation.workspace import platform_name

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a;
       background: #fff; max-width: 54rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 2px solid #1a1a1a; }
h3 { font-size: 1.05rem; }
table { border-collapse: collapse; margin: .75rem 0; font-size: .95rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border: 1px solid #8a8a8a; padding: .3rem .6rem; text-align: right; }
th[scope="row"], th.left, td.left { text-align: left; }
thead th { background: #f0f0f0; }
figure { margin: 1rem 0; }
img { max-width: 100%; height: auto; }
figcaption { font-size: .9rem; color: #333; }
blockquote { margin: .5rem 0 .5rem 1rem; padding-left: .75rem; border-left: 3px solid #8a8a8a; }
.audit { font-size: .8rem; color: #444; }
.lead { color: #333; }
a { color: #0b57d0; }
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _change(change: RateChange | None) -> str:
    return _e(change.text()) if change else "—"


def _figure(chart: Chart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{_e(chart.alt)}" '
        f'width="800" height="380"><figcaption>{_e(chart.title)}</figcaption></figure>'
    )


def _audit(digest: Digest, key: str) -> str:
    audit_id = digest.audit_ids.get(key)
    if not audit_id:
        return ""
    return (
        f'<p class="audit"><small>Audit id <code>{_e(audit_id)}</code>: the inputs, query and '
        "output of this section are stored in the workspace's audit table.</small></p>"
    )


def _table(caption: str, head: list[str], rows: list[list[str]]) -> str:
    left = ' class="left"'
    cols = "".join(
        f'<th scope="col"{left if i == 0 else ""}>{_e(h)}</th>' for i, h in enumerate(head)
    )
    body = "".join(
        f'<tr><th scope="row">{row[0]}</th>' + "".join(f"<td>{c}</td>" for c in row[1:]) + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{_e(caption)}</caption><thead><tr>{cols}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def _list(items: list[str], ordered: bool = False) -> str:
    tag = "ol" if ordered else "ul"
    return f"<{tag}>" + "".join(f"<li>{item}</li>" for item in items) + f"</{tag}>"


def _volume(d: Digest) -> str:
    v = d.volume
    rows = [
        [
            _e(platform_name(r.platform)),
            f"{r.brand_posts:,}",
            f"{r.previous_brand_posts:,}",
            _change(r.change),
            f"{r.own_posts:,}",
            f"{r.previous_own_posts:,}",
        ]
        for r in (*v.rows, v.total)
    ]
    head = [
        "Platform",
        f"Posts about us, {d.week.label}",
        d.week.previous().label,
        "Change (95% CI)",
        f"Our posts, {d.week.label}",
        d.week.previous().label,
    ]
    return (
        f'<p class="lead">{_e(v.headline())}</p>'
        + _table("Posts per platform, this week and the week before", head, rows)
        + _figure(d.chart("volume"))
    )


def _sentiment(d: Digest) -> str:
    s = d.sentiment.summary
    rows = [
        [
            _e(c.label),
            pct(s.share(c.label)),
            pct(s.previous_share(c.label)),
            _e(f"{c.points:+.1f} ({c.ci_low:+.1f} to {c.ci_high:+.1f})"),
            "beyond noise" if c.significant else "within noise",
        ]
        for c in s.changes
    ]
    table = (
        _table(
            f"Sentiment shares of {s.total:,} posts this week and {s.previous_total:,} the week before",
            ["Label", d.week.label, d.week.previous().label, "Change, points (95% CI)", "Verdict"],
            rows,
        )
        if rows
        else ""
    )
    platforms = (
        _table(
            "Sentiment by platform this week",
            ["Platform", "Posts", "Positive", "Neutral", "Negative"],
            [
                [
                    _e(platform_name(p)),
                    f"{int(v['posts']):,}",
                    pct(v["positive"]),
                    pct(v["neutral"]),
                    pct(v["negative"]),
                ]
                for p, v in s.by_platform.items()
            ],
        )
        if s.by_platform
        else ""
    )
    return (
        f'<p class="lead">{_e(d.sentiment.headline())}</p>{table}{platforms}'
        + _figure(d.chart("sentiment"))
        + f'<p class="audit"><small>Scored by {_e(s.model_version)}; posts about '
        f"{_e(d.brand)} by others, not its own accounts.</small></p>"
    )


def _post(kind: str, post: PostHighlight) -> str:
    why = [f"{_e(dr.trait)}: {_e(dr.text())}" for dr in post.drivers]
    model = (
        "<p>The engagement model, before it went out:</p>"
        + _list([_e(line.removeprefix("- ")) for line in post.model_text.split("\n")])
        if post.model_text
        else ""
    )
    return (
        f"<h3>{_e(kind)} post: {_e(post.post_id)}</h3><p>{_e(post.line(kind))}</p>"
        f"<blockquote>{_e(post.text)}</blockquote>"
        + (
            f"<p>How posts like it usually do on {_e(platform_name(post.platform))} "
            f"(median rate ÷ typical rate):</p>" + _list(why)
            if why
            else ""
        )
        + model
    )


def _engagement(d: Digest) -> str:
    g = d.engagement
    rows = [
        [
            _e(platform_name(r.platform)),
            f"{r.posts}",
            rate_pct(r.rate) if r.rate is not None else "—",
            f"{r.previous_posts}",
            rate_pct(r.previous_rate) if r.previous_rate is not None else "—",
            _change(r.change),
        ]
        for r in g.rows
    ]
    table = (
        _table(
            "Typical engagement rate of our posts (geometric mean of engagements ÷ followers)",
            [
                "Platform",
                f"Posts, {d.week.label}",
                "Rate",
                f"Posts, {d.week.previous().label}",
                "Rate",
                "Change (95% CI)",
            ],
            rows,
        )
        if rows
        else ""
    )
    posts = "".join(_post(k, p) for k, p in (("Best", g.best), ("Worst", g.worst)) if p)
    note = (
        f"<p>{g.without_followers} of this week's posts had no follower count and were left out.</p>"
        if g.without_followers
        else ""
    )
    return f'<p class="lead">{_e(g.headline())}</p>{table}{posts}{note}'


def _experiments(d: Digest) -> str:
    x = d.experiments
    if not x.concluded:
        return f'<p class="lead">{_e(x.headline())}</p>'
    items = []
    for o in x.concluded:
        details = [f"⚠ {_e(w)}" for w in o.warnings] + [_e(m) for m in o.metric_lines]
        items.append(f"<strong>{_e(o.line())}</strong>" + (_list(details) if details else ""))
    return (
        f'<p class="lead">{len(x.concluded)} ended this week ({x.previous_week} the week before).</p>'
        + _list(items)
    )


def _anomalies(d: Digest) -> str:
    a = d.anomalies
    if not a.report.alerts:
        return f'<p class="lead">{_e(a.headline())}</p>'
    return (
        f'<p class="lead">{len(a.report.alerts)} alerts ({a.previous_alerts} the week before), '
        f"at {a.report.sensitivity:g} robust SDs from the weekday-aware baseline:</p>"
        + _list([_e(line) for line in a.lines()])
    )


def _creators(d: Digest) -> str:
    c = d.creators
    return f'<p class="lead">{_e(c.headline())}</p>' + (
        _list([_e(m.line()) for m in c.mentions]) if c.mentions else ""
    )


def _support(d: Digest) -> str:
    return f'<p class="lead">{_e(d.support.headline())}</p>'


def _actions(d: Digest) -> str:
    items = [
        f'{_e(a.text)} <small>(from <a href="#{a.finding}">{_e(SECTION_TITLES[a.finding])}</a>)</small>'
        for a in d.actions.items
    ]
    return (
        _list(items, ordered=True) if items else f'<p class="lead">{_e(d.actions.headline())}</p>'
    )


RENDERERS = {
    "volume": _volume,
    "sentiment": _sentiment,
    "engagement": _engagement,
    "experiments": _experiments,
    "anomalies": _anomalies,
    "creators": _creators,
    "support": _support,
    "actions": _actions,
}


def _dashboard(digest: Digest, key: str) -> str:
    """A link to the section's dashboard view (signed; none when no dashboard is set up)."""
    link = digest.links.get(key)
    return (
        f'<p class="dashboard"><a href="{_e(link)}">Open in the dashboard</a></p>' if link else ""
    )


def render_html(digest: Digest) -> str:
    """The whole digest as one HTML document (no external files, scripts or fonts)."""
    title = f"{digest.brand} weekly digest, {digest.week.label}"
    headlines = _list(
        [
            f'<a href="#{key}">{_e(SECTION_TITLES[key])}</a>: {_e(digest.section(key).headline())}'
            for key in SECTION_TITLES
        ]
    )
    sections = "".join(
        f'<section aria-labelledby="{key}"><h2 id="{key}">{_e(SECTION_TITLES[key])}</h2>'
        f"{RENDERERS[key](digest)}{_dashboard(digest, key)}{_audit(digest, key)}</section>"
        for key in SECTION_TITLES
    )
    previous = digest.week.previous()
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="lead">{_e(digest.week.describe())}, compared with {_e(previous.describe())}. '
        f"Generated {digest.generated_at:%d %b %Y %H:%M} UTC.</p></header>\n<main>\n"
        f'<section aria-labelledby="headlines"><h2 id="headlines">Headlines</h2>{headlines}</section>\n'
        f'{sections}\n</main>\n<footer><p class="audit"><small>Every number comes from the '
        "workspace; each section's audit id points at a row of the audit table with the week, "
        "the periods, the query and its parameters, the sources and the output "
        "(<code>SELECT * FROM audit WHERE audit_id = '…'</code>).</small></p></footer>\n"
        "</body>\n</html>\n"
    )
