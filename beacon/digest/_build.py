"""Building the digest: every section from the workspace, one audit row per section."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from analytics.scope import Scope
from beacon.digest._charts import sentiment_chart, volume_chart
from beacon.digest._rules import recommend
from beacon.digest._sections import (
    anomalies_section,
    creators_section,
    engagement_section,
    experiments_section,
    sentiment_section,
    support_section,
    volume_section,
)
from beacon.digest._types import SECTION_TITLES, SECTION_VIEWS, ActionsSection, Digest, Linker
from beacon.digest._week import IsoWeek
from foundation.settings import Settings
from foundation.view_links import sign_link
from foundation.workspace import Workspace, get_meta, utc_now

if TYPE_CHECKING:
    from analytics.engagement import EngagementModel

AUDIT_KIND = "digest_section"
#: Sections in build order (the charts come after the sections they draw).
STEPS = (*SECTION_TITLES, "charts")


def _window(week: IsoWeek) -> dict[str, Any]:
    previous = week.previous()
    return {
        "week": week.label,
        "period": {"start": week.start.isoformat(), "end": week.end.isoformat()},
        "previous": {
            "label": previous.label,
            "start": previous.start.isoformat(),
            "end": previous.end.isoformat(),
        },
    }


def dashboard_linker(settings: Settings) -> Linker | None:
    """Signs dashboard links with the installation's key; None without a dashboard URL."""
    if not settings.dashboard_url:
        return None
    return functools.partial(sign_link, settings.dashboard_url, key=settings.dashboard_link_key())


def build_digest(
    workspace: Workspace,
    week: IsoWeek,
    *,
    model_version: str,
    engagement_model: EngagementModel | None = None,
    conversation_id: str | None = None,
    on_step: Callable[[str], None] | None = None,
    link: Linker | None = None,
) -> Digest:
    """Compute the week's digest and record each section in the ``audit`` table.

    Args:
        workspace: The workspace to read (and to write the audit rows to).
        week: The week to report on; every number is compared with the week before.
        model_version: The sentiment scorer whose labels are counted.
        engagement_model: When given, the best and worst posts also carry its explanation.
        conversation_id: Stored with the audit rows when a conversation asked for the digest.
        on_step: Called with each step's name before it runs (progress).
        link: Makes the sections' dashboard links (:func:`dashboard_linker`); None
            makes none.

    Returns:
        The digest, with ``audit_ids`` mapping each section to its audit row.

    Raises:
        WorkspaceError: The workspace cannot be opened.
        AnalysisInputError: The workspace has no scored posts for ``model_version``.
    """
    step = on_step or (lambda _name: None)
    with workspace.connect(read_only=True) as con:
        scope = Scope(week.period(), model_version).for_brand(con)
        brand = str(get_meta(con, "brand", "the brand"))
        audit_ids: dict[str, str] = {}

        def audit(
            key: str, section: Any, params: dict[str, Any], sources: list[str], version: str | None
        ) -> None:
            audit_ids[key] = workspace.record_audit(
                kind=AUDIT_KIND,
                inputs={**_window(week), "section": key, "parameters": params},
                output=section.to_dict(),
                sources=sources,
                model_version=version,
                conversation_id=conversation_id,
            )

        listening_sources = [
            "workspace:posts",
            f"workspace:scores/{model_version}",
            "workspace:meta/own_accounts",
            "workspace:meta/brand_terms",
        ]
        step("volume")
        volume, params = volume_section(con, week, scope)
        audit("volume", volume, params, listening_sources, model_version)
        step("sentiment")
        sentiment, params = sentiment_section(con, week, scope)
        audit("sentiment", sentiment, params, listening_sources, model_version)
        step("engagement")
        if engagement_model is not None:  # judge each post against the posts before it
            from analytics.engagement import with_workspace_posts

            engagement_model = with_workspace_posts(engagement_model, con)
        engagement, params = engagement_section(con, week, scope, engagement_model)
        audit(
            "engagement",
            engagement,
            params,
            ["workspace:posts (own accounts)"]
            + ([f"model:{engagement.model_version}"] if engagement.model_version else []),
            engagement.model_version,
        )
        step("experiments")
        experiments, params = experiments_section(con, week)
        audit(
            "experiments",
            experiments,
            params,
            ["workspace:experiments"]
            + [f"workspace:experiment_units/{o.experiment_id}" for o in experiments.concluded],
            None,
        )
        step("anomalies")
        anomalies, params = anomalies_section(con, week, scope)
        audit("anomalies", anomalies, params, listening_sources, model_version)
        step("creators")
        creators, params = creators_section(con, week, brand, scope)
        audit("creators", creators, params, ["workspace:influencers", "workspace:posts"], None)
        step("support")
        support, params = support_section(con, week, scope)
        audit(
            "support",
            support,
            params,
            [
                "workspace:posts (support)",
                f"workspace:scores/{model_version}",
                "workspace:support_ratings",
                "workspace:audit (handoff)",
            ],
            model_version,
        )
        step("actions")
        actions = ActionsSection(
            recommend(brand, volume, sentiment, engagement, experiments, anomalies, creators)
        )
        audit(
            "actions",
            actions,
            {
                "rules": "beacon.digest._rules.recommend",
                "fired": [item.rule for item in actions.items],
                "findings": {key: audit_ids[key] for key in audit_ids},
            },
            [f"audit:{audit_id}" for audit_id in audit_ids.values()],
            None,
        )
    step("charts")
    charts = (volume_chart(volume, week, brand), sentiment_chart(sentiment, week, brand))
    return Digest(
        week=week,
        brand=brand,
        generated_at=utc_now(),
        sentiment_model=model_version,
        volume=volume,
        sentiment=sentiment,
        engagement=engagement,
        experiments=experiments,
        anomalies=anomalies,
        creators=creators,
        support=support,
        actions=actions,
        charts=charts,
        links={
            key: link(view, {"start": week.start.isoformat(), "end": week.end.isoformat()})
            for key, view in SECTION_VIEWS.items()
        }
        if link
        else {},
        audit_ids=audit_ids,
    )
