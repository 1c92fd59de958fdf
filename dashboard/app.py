"""The staff dashboard (Streamlit): ``streamlit run dashboard/app.py``; ``beacon serve`` starts it.

A signed link from a chat answer or the digest opens its view with the answer's own
filters (:mod:`foundation.view_links`) until the link expires; without one, the page asks
for a staff token. Every number comes from :mod:`dashboard._data`, which calls the
analytics functions the bot's answers call, on a read-only workspace connection.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from analytics.engagement import EngagementModel, with_workspace_posts
from analytics.exceptions import AnalysisInputError, ModelLoadError
from analytics.influencers import Ranking
from analytics.listening import percent
from beacon.scoring import ReloadingScorer, current_model_version
from dashboard import _data
from foundation.exceptions import BeaconError
from foundation.settings import Settings, get_settings
from foundation.staff_tokens import StaffTokenStore
from foundation.view_links import VIEWS, LinkError, ViewLink, read_link, sign_link
from foundation.workspace import (
    PLATFORMS,
    TURN_LOCK_WAIT_SECONDS,
    Workspace,
    platform_name,
    queries,
)

logger = logging.getLogger("beacon.dashboard")

TITLES = {
    "brand": "Brand health",
    "posts": "Our posts",
    "experiments": "Experiments",
    "creators": "Creators",
    "support": "Support",
    "pins": "Pinned",
}
#: How long a staff token sign-in lasts in one browser session.
SIGN_IN_S = 12 * 3600


@st.cache_resource
def _workspace(path: str) -> Workspace:
    return Workspace(Path(path), lock_wait=TURN_LOCK_WAIT_SECONDS)


def _staff_token_ok(settings: Settings, presented: str) -> bool:
    presented = presented.strip()
    if not presented:
        return False
    if hmac.compare_digest(presented.encode(), settings.staff_token_or_local().encode()):
        return True
    return StaffTokenStore(settings.staff_tokens_path).check(presented) is not None


def _access(settings: Settings) -> ViewLink | None:
    """The link this session opened, a staff sign-in, or None after showing the sign-in form."""
    state = st.session_state
    query = {name: str(value) for name, value in st.query_params.to_dict().items()}
    if {"view", "sig", "expires"} & set(query):
        try:
            link = read_link(query, settings.dashboard_link_key())
        except LinkError as error:
            state.pop("link", None)
            st.error(f"This link can't be opened: {error}.")
        else:
            state["link"] = link
            state["until"] = link.expires
            return link
    if state.get("until", 0) > time.time():
        return state.get("link") or ViewLink("brand")
    st.title("Beacon dashboard")
    st.write("Open a link from a Beacon answer, or sign in with a staff token.")
    with st.form("sign-in"):
        token = st.text_input("Staff token", type="password")
        if st.form_submit_button("Sign in"):
            if _staff_token_ok(settings, token):
                state["until"] = time.time() + SIGN_IN_S
                state["link"] = ViewLink("brand")
                st.rerun()
            st.error("That token is not a valid staff token.")
    return None


class _Sidebar:
    """The sidebar's widgets, drawn after the view so that its headline reaches the browser
    first (each kind of widget costs the browser a script to load before it draws).

    A view reads a widget's value before the widget exists: what the user last chose is
    under the widget's key in the session, and on the first run it is the default (the
    link's). :meth:`draw` then draws the widgets with those keys and defaults.
    """

    def __init__(self) -> None:
        self._pending: list[Callable[[], Any]] = []

    def draw(self) -> None:
        """Draw the widgets the view read, in the order it read them."""
        for draw in self._pending:
            draw()

    def choice(
        self,
        label: str,
        options: list[str],
        *,
        key: str,
        default: str,
        format_func: Callable[[str], str] = str,
        radio: bool = False,
    ) -> str:
        """A select box (or radio buttons) over ``options``; its value."""
        index = options.index(default) if default in options else 0
        value = st.session_state.get(key, options[index])

        def draw() -> None:
            if radio:
                st.sidebar.radio(label, options, index=index, key=key, format_func=format_func)
            else:
                st.sidebar.selectbox(label, options, index=index, key=key, format_func=format_func)

        self._pending.append(draw)
        return value if value in options else options[index]

    def text(self, label: str, *, key: str, default: str) -> str:
        """A text box; its value, stripped."""
        value = st.session_state.get(key, default)
        self._pending.append(lambda: st.sidebar.text_input(label, value=default, key=key))
        return str(value).strip()

    def period(
        self, label: str, *, key: str, default: tuple[date, date], latest: date
    ) -> tuple[date, ...]:
        """A date-range picker; the days picked (one while a range is half picked)."""
        value = st.session_state.get(key, default)
        self._pending.append(
            lambda: st.sidebar.date_input(label, value=default, max_value=latest, key=key)
        )
        return tuple(value) if isinstance(value, list | tuple) else (value,)


def _filters(
    link: ViewLink, today: date, sidebar: _Sidebar, *, topic_label: str = "Topic"
) -> _data.Filters:
    """The sidebar's platform, period and topic, starting from the link's."""
    start = _data.Filters.from_link(link.filters, today)
    chosen = sidebar.choice(
        "Platform",
        ["all", *PLATFORMS],
        key="platform",
        default=start.platform or "all",
        format_func=lambda code: "All platforms" if code == "all" else platform_name(code),
    )
    picked = sidebar.period(
        "Period", key="period", default=(start.start, start.end), latest=max(today, start.end)
    )
    # While a range is being picked, the widget holds one day: show that day.
    first, last = (picked[0], picked[-1]) if picked and picked[0] else (start.start, start.end)
    topic = sidebar.text(topic_label, key="topic", default=start.topic or "")
    return _data.Filters(first, last, None if chosen == "all" else chosen, topic or None)


def _metric_row(
    values: list[tuple[str, str, str | None]],
    *,
    falling_is_good: str = "",
    notes: dict[str, str] | None = None,
) -> None:
    """Headline numbers side by side; the one named ``falling_is_good`` shows a drop in
    green; ``notes`` are hover texts by label."""
    for column, (label, value, delta) in zip(st.columns(len(values)), values, strict=True):
        column.metric(
            label,
            value,
            delta,
            delta_color="inverse" if label == falling_is_good else "normal",
            help=(notes or {}).get(label),
        )


def _brand(con: Any, filters: _data.Filters, model_version: str) -> None:
    summary = _data.brand_summary(con, filters, model_version)
    st.caption(
        f"{platform_name(filters.platform)}, {filters.period.describe()}"
        + (f", about “{filters.topic}”" if filters.topic else "")
        + f" · sentiment by {summary.model_version}"
    )
    changes = {change.label: change for change in summary.changes}

    def delta(label: str) -> str | None:
        change = changes.get(label)
        if change is None:
            return None
        return f"{change.points:+.1f} pts" + ("" if change.significant else " (noise)")

    notes = {
        change.label.capitalize(): (
            f"Change against {summary.previous.describe()}: {change.points:+.1f} points, "
            f"95% interval {change.ci_low:+.1f} to {change.ci_high:+.1f}"
        )
        for change in summary.changes
    }

    _metric_row(
        [
            ("Posts", f"{summary.total:,}", f"{summary.total - summary.previous_total:+,}"),
            ("Positive", percent(summary.share("positive")), delta("positive")),
            ("Neutral", percent(summary.share("neutral")), delta("neutral")),
            ("Negative", percent(summary.share("negative")), delta("negative")),
        ],
        falling_is_good="Negative",
        notes=notes,
    )
    if not summary.total:
        st.info("No posts match these filters. Try a longer period or another platform.")
        return
    view = _data.brand_health(con, filters, model_version, summary=summary)
    shares = view.shares.dropna(subset=["share"])
    pick = alt.selection_point(name="day", fields=["day"], on="click")
    base = alt.Chart(shares[shares["label"] == "negative"]).encode(x=alt.X("day:T", title=None))
    band = base.mark_area(opacity=0.25).encode(
        y=alt.Y("low:Q", title="negative share (95% interval)", axis=alt.Axis(format="%")),
        y2="high:Q",
    )
    line = (
        base.mark_line(point=True)
        .encode(
            y="share:Q",
            tooltip=[
                alt.Tooltip("day:T"),
                alt.Tooltip("share:Q", format=".0%", title="negative"),
                alt.Tooltip("low:Q", format=".0%"),
                alt.Tooltip("high:Q", format=".0%"),
                alt.Tooltip("posts:Q"),
            ],
        )
        .add_params(pick)
    )
    layers = [band, line]
    alert_days = (
        pd.DataFrame(
            [
                {"day": pd.Timestamp(day), "alert": f"{alert.metric} {alert.direction}"}
                for alert in view.anomalies.alerts
                for day in alert.days
            ]
        )
        if view.anomalies is not None and view.anomalies.alerts
        else pd.DataFrame()
    )
    if len(alert_days):
        layers.append(
            alt.Chart(alert_days)
            .mark_rule(color="red", strokeDash=[4, 3])
            .encode(x="day:T", tooltip=["day:T", "alert:N"])
        )
    st.subheader("Negative share per day")
    event = st.altair_chart(
        alt.layer(*layers), width="stretch", on_select="rerun", key="brand-chart"
    )
    if view.anomalies is not None:
        st.write(
            f"Unusual days: {len(view.anomalies.alerts)} alert(s)"
            + "".join(f"\n- {alert.text()}" for alert in view.anomalies.alerts)
            if view.anomalies.alerts
            else "No unusual days in this period."
        )
    left, right = st.columns(2)
    for column, label in ((left, "positive"), (right, "negative")):
        column.subheader(f"What drives {label} talk")
        found = view.themes.get(label) or []
        if not found:
            column.write("No word stands out beyond noise.")
        for theme in found:
            with column.expander(f"**{theme.term}** ({theme.count} posts, z = {theme.z:.1f})"):
                for post_id, text in theme.examples:
                    st.write(f"{post_id}: “{' '.join(text.split())}”")
    picked = _picked_day(event)
    if picked is not None:
        st.subheader(f"Posts on {picked:%d %b %Y}")
        posts = _data.posts_on(con, filters.scope(con, model_version), picked)
    else:
        st.subheader("Clearest posts")
        posts = view.examples
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "post": post.post_id,
                    "day": post.posted_at.date(),
                    "platform": platform_name(post.platform),
                    "sentiment": post.label,
                    "sure": percent(post.confidence),
                    "text": post.text,
                }
                for post in posts
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def _picked_day(event: Any) -> date | None:
    """The day clicked on the chart, if any."""
    try:
        points = event.selection["day"]
    except (AttributeError, KeyError, TypeError):
        return None
    if not points:
        return None
    value = points[0].get("day")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).date()
    try:
        return pd.Timestamp(value).date()
    except (TypeError, ValueError):
        return None


def _posts(con: Any, filters: _data.Filters) -> None:
    view = _data.our_posts(con, filters)
    daily = view.daily
    _metric_row(
        [
            ("Posts", f"{int(daily['posts'].sum()):,}" if len(daily) else "0", None),
            (
                "Engagements",
                f"{int(daily['engagement'].sum()):,}" if len(daily) else "0",
                None,
            ),
        ]
    )
    if len(daily):
        st.subheader("Engagement rate per day")
        st.altair_chart(
            alt.Chart(daily)
            .mark_line(point=True)
            .encode(
                x=alt.X("day:T", title=None),
                y=alt.Y("engagement_rate:Q", axis=alt.Axis(format=".1%"), title="per follower"),
                tooltip=[
                    "day:T",
                    "posts:Q",
                    "engagement:Q",
                    alt.Tooltip("engagement_rate:Q", format=".2%"),
                ],
            ),
            width="stretch",
        )
    _draft_box(con)
    shown: list[str] = []
    for title, ranked in (("Best posts", view.best), ("Worst posts", view.worst)):
        st.subheader(title)
        if ranked is None or not ranked.posts:
            st.write("No own posts in this period.")
            continue
        shown += [post.post_id for post in ranked.posts]
        st.dataframe(
            pd.DataFrame([post.to_dict() for post in ranked.posts]),
            hide_index=True,
            width="stretch",
        )
    if shown:
        _explain_box(con, shown)


@st.cache_resource(max_entries=4, show_spinner="Loading the engagement model…")
def _engagement(folder: str, cache_dir: str, data: tuple[Any, ...]) -> EngagementModel:
    """The engagement ensemble with the workspace's latest posts, once per data version."""
    model = EngagementModel.load(Path(folder), cache_dir=Path(cache_dir))
    with _workspace(str(get_settings().workspace_path)).connect(read_only=True) as con:
        return with_workspace_posts(model, con)


def _model(con: Any) -> EngagementModel | None:
    """The engagement model for this data, or None (said on the page) when there is none."""
    settings = get_settings()
    try:
        return _engagement(
            str(settings.engagement_model_dir),
            str(settings.engagement_cache_dir),
            queries.data_version(con),
        )
    except (ModelLoadError, OSError, ValueError, KeyError):
        logger.exception("the engagement model could not be loaded")
        st.warning("There is no usable engagement model yet; `beacon engagement train` makes one.")
        return None


def _draft_box(con: Any) -> None:
    """Try a draft: the chat's prediction and explanation for a text the user types."""
    with st.expander("Try a draft"), st.form("draft"):
        text = st.text_area("Draft text", max_chars=4000)
        platform = st.selectbox("Platform", ["instagram", "twitter", "facebook"])
        if not st.form_submit_button("Predict"):
            return
        model = _model(con)
        if model is None:
            return
        # As the chat does: a draft goes out at the next full hour (UTC) unless told.
        now = datetime.now(UTC).replace(tzinfo=None)
        posted_at = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        st.caption(f"Posted {posted_at:%a %d %b %H:%M} UTC, text only")
        st.text(_data.draft_explanation(con, model, text, platform, posted_at))


def _explain_box(con: Any, post_ids: list[str]) -> None:
    """A listed post's outcome next to the model's prediction and reasons (the chat's)."""
    with st.expander("Prediction and explanation of a listed post"):
        post_id = st.selectbox("Post", ["", *post_ids], format_func=lambda p: p or "pick a post")
        if post_id and (model := _model(con)) is not None:
            st.text(_data.post_explanation(con, model, post_id))


def _experiments(con: Any, link: ViewLink, sidebar: _Sidebar) -> None:
    known = _data.experiments(con)
    if not known:
        st.info("There are no experiments in the workspace yet.")
        return
    names = dict(known)
    chosen = sidebar.choice(
        "Experiment",
        list(names),
        key="experiment",
        default=link.filters.get("experiment") or "",
        format_func=names.__getitem__,
    )
    result = _data.experiment(con, chosen)
    _metric_row([(label, value, None) for label, value in _data.experiment_headline(result)])
    for warning in result.warnings:
        st.warning(warning)
    st.caption(
        f"Sample-ratio check: {'mismatch' if result.srm.warning else 'fine'} "
        f"(p = {result.srm.p_value:.3g})"
    )
    table = _data.experiment_table(result)
    st.dataframe(table, hide_index=True, width="stretch")
    lifts = table.dropna(subset=["relative lift"])
    if len(lifts):
        points = alt.Chart(lifts).encode(y=alt.Y("variant:N", title=None))
        st.altair_chart(
            alt.layer(
                points.mark_rule().encode(
                    x=alt.X("lift 95% low:Q", axis=alt.Axis(format="%"), title="relative lift"),
                    x2="lift 95% high:Q",
                ),
                points.mark_point(filled=True).encode(
                    x="relative lift:Q",
                    tooltip=["metric", "variant", alt.Tooltip("relative lift:Q", format=".1%")],
                ),
            ).facet(row=alt.Row("metric:N", title=None)),
            width="stretch",
        )
    if result.roi:
        st.subheader("Return on investment")
        st.dataframe(
            pd.DataFrame([roi.to_dict() for roi in result.roi]),
            hide_index=True,
            width="stretch",
        )


@st.cache_resource
def _scorer() -> ReloadingScorer:
    return ReloadingScorer()


@st.cache_resource(max_entries=32, show_spinner="Ranking the creators…")
def _ranking(
    workspace_path: str,
    brief: str,
    platform: str | None,
    budget: float | None,
    data: tuple[Any, ...],
    model: str,
) -> Ranking:
    """The ranking for a brief, computed once per brief, platform, budget, data and model
    (as the chat caches it)."""
    with _workspace(workspace_path).connect(read_only=True) as con:
        return _data.creator_ranking(con, brief, _scorer(), platform=platform, budget=budget)


def _creators(con: Any, workspace: Workspace, link: ViewLink, sidebar: _Sidebar) -> None:
    brief = sidebar.text("Brief", key="brief", default=link.filters.get("brief") or "")
    platform = sidebar.choice(
        "Platform",
        ["all", *PLATFORMS],
        key="creator-platform",
        default=link.filters.get("platform") or "all",
        format_func=lambda code: "All platforms" if code == "all" else platform_name(code),
    )
    if not brief:
        st.info("Give a brief (what the campaign is about) to rank the creators for it.")
        return
    ranking = _ranking(
        str(workspace.path),
        brief,
        None if platform == "all" else platform,
        None,
        queries.data_version(con),
        current_model_version(),
    )
    if not ranking.items:
        st.info(f"No creator in the workspace fits “{brief}”.")
        return
    _metric_row([(label, value, None) for label, value in _data.creator_headline(ranking)])
    table = _data.creator_table(ranking)
    st.dataframe(table, hide_index=True, width="stretch")
    st.altair_chart(
        alt.Chart(table)
        .mark_bar()
        .encode(
            x=alt.X("score:Q"),
            y=alt.Y("creator:N", sort="-x", title=None),
            tooltip=["#", "creator", "score", "fit", "authenticity flags"],
        ),
        width="stretch",
    )
    if len(ranking.items) > 1:
        st.write("Why #1 over #2: " + ranking.explain_pair(1, 2))


def _support(con: Any, filters: _data.Filters, model_version: str) -> None:
    view = _data.support_activity(con, filters, model_version)
    totals = view.totals
    _metric_row(
        [
            ("Customer messages", f"{totals['messages']:,}", None),
            ("Hand-offs", f"{totals['handoffs']:,}", None),
            ("Ratings", f"{totals['ratings']:,}", None),
            (
                "Mean rating",
                "–" if math.isnan(totals["mean_rating"]) else f"{totals['mean_rating']:.1f} / 5",
                None,
            ),
        ]
    )
    daily = view.daily.melt(
        id_vars="day", value_vars=["messages", "handoffs", "ratings"], var_name="what"
    )
    st.altair_chart(
        alt.Chart(daily)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y="value:Q",
            color="what:N",
            tooltip=["day:T", "what:N", "value:Q"],
        ),
        width="stretch",
    )
    st.subheader("Tone: share of negative customer messages")
    st.altair_chart(
        alt.Chart(view.daily.dropna(subset=["negative_share"]))
        .mark_bar()
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y("negative_share:Q", axis=alt.Axis(format="%"), title=None),
            tooltip=["day:T", alt.Tooltip("negative_share:Q", format=".0%")],
        ),
        width="stretch",
    )


def _board_label(board: str) -> str:
    if board.startswith("person:"):
        return f"{board.removeprefix('person:')} (personal)"
    return f"{board} (team)"


def _pins(
    con: Any,
    workspace: Workspace,
    link: ViewLink,
    sidebar: _Sidebar,
    model_version: str,
    today: date,
) -> None:
    asked = link.filters.get("board")
    options = sorted(set(queries.boards(con)) | ({asked} if asked else set()))
    if not options:
        st.info("Nothing is pinned yet: ask Beacon a question in chat, then say “pin this”.")
        return
    board = sidebar.choice(
        "Board", options, key="board", default=asked or "", format_func=_board_label
    )
    tiles = queries.pinned_tiles(con, board)
    if not tiles:
        st.info("This board has no tiles; say “pin this” after an answer in chat.")
        return
    data = queries.data_version(con)

    def rank(brief: str, platform: str | None, budget: float | None) -> Ranking:
        return _ranking(str(workspace.path), brief, platform, budget, data, model_version)

    settings = get_settings()
    for tile in tiles:
        with st.container(border=True):
            try:
                shown = _data.tile_view(con, tile, model_version, today, rank)
            except AnalysisInputError as error:
                st.subheader(tile.question or tile.kind)
                st.warning(f"Tile {tile.tile_id} can't be shown now: {error}")
                continue
            st.subheader(shown.title)
            st.caption(
                " · ".join(
                    part
                    for part in (
                        f"tile {tile.tile_id}",
                        shown.period,
                        f"pinned {tile.pinned_at:%d %b %Y}",
                    )
                    if part
                )
            )
            _metric_row([(label, value, None) for label, value in shown.metrics])
            if shown.table is not None and len(shown.table):
                st.dataframe(shown.table, hide_index=True, width="stretch")
            more = sign_link("", shown.view, shown.filters, settings.dashboard_link_key())
            st.markdown(f"[Open in the {TITLES[shown.view]} view]({more})")


def _guarded(draw: Callable[[], None]) -> None:
    """Draw a view; whatever goes wrong is one plain sentence (details go to the log)."""
    try:
        draw()
    except AnalysisInputError as error:
        st.warning(str(error))
    except BeaconError as error:
        logger.warning("dashboard view failed: %s", error)
        st.error("The workspace can't be read right now; try again in a minute.")
    except Exception:  # a view must never show a stack trace; the log keeps it
        logger.exception("dashboard view failed")
        st.error("This view could not be drawn; the team can see why in the dashboard's log.")


def main() -> None:
    """Draw the page for this browser session."""
    started = time.perf_counter()
    st.set_page_config(page_title="Beacon dashboard", layout="wide")
    settings = get_settings()
    link = _access(settings)
    if link is None:
        return
    sidebar = _Sidebar()
    view = sidebar.choice(
        "View",
        list(VIEWS),
        key="view",
        default=link.view,
        format_func=TITLES.__getitem__,
        radio=True,
    )
    st.title(TITLES[view])
    today = datetime.now(UTC).date()
    model_version = current_model_version()
    workspace = _workspace(str(settings.workspace_path))

    def draw() -> None:
        with workspace.connect(read_only=True) as con:
            if view == "creators":
                _creators(con, workspace, link, sidebar)
                return
            if view == "pins":
                _pins(con, workspace, link, sidebar, model_version, today)
                return
            if view == "experiments":
                _experiments(con, link, sidebar)
                return
            label = "Campaign" if view == "posts" else "Topic"
            filters = _filters(link, today, sidebar, topic_label=label)
            if view == "brand":
                _brand(con, filters, model_version)
            elif view == "posts":
                _posts(con, filters)
            else:
                _support(con, filters, model_version)

    _guarded(draw)
    sidebar.draw()
    logger.debug("view %s drawn in %.3f s", view, time.perf_counter() - started)


if __name__ == "__main__":
    main()
