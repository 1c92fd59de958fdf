"""The weekly digest: the week's headline numbers vs the week before, as HTML and in Slack.

Public surface::

    week = parse_week("2026-W48", today)          # or last_complete_week(today)
    digest = build_digest(workspace, week, model_version=scorer.version)
    write_html(digest, Path("digest.html"))
    publish_digest(workspace, digest, SlackPoster.from_env(), "marketing")
    run_digest(...)                               # all three, as `beacon digest` does

Every section's inputs (week, periods, query and parameters), sources and output are
recorded in the workspace's ``audit`` table (kind ``digest_section``), and each Slack post
leaves a ``digest_posted`` marker so a week goes to a channel once. :class:`SlackPoster`
is the reusable Slack adapter (a message plus images in its thread).

A :class:`Digest` holds one frozen section per heading (:data:`SECTION_TITLES`); the
rows, highlights and intervals inside a section are reached through it.
"""

from beacon.digest._build import AUDIT_KIND, STEPS, build_digest, dashboard_linker
from beacon.digest._html import render_html
from beacon.digest._publish import (
    POSTED_KIND,
    PublishResult,
    digest_blocks,
    find_posted,
    publish_digest,
)
from beacon.digest._run import DigestRun, default_output, run_digest, write_html
from beacon.digest._schedule import WeeklySchedule, parse_schedule, run_weekly
from beacon.digest._slack import (
    API_URL_ENV,
    TOKEN_ENV,
    SlackImage,
    SlackPost,
    SlackPoster,
    escape_mrkdwn,
)
from beacon.digest._types import (
    SECTION_TITLES,
    ActionsSection,
    AnomaliesSection,
    Chart,
    CreatorsSection,
    Digest,
    EngagementSection,
    ExperimentsSection,
    SentimentSection,
    SupportSection,
    VolumeSection,
)
from beacon.digest._week import IsoWeek, last_complete_week, parse_week

__all__ = [
    "API_URL_ENV",
    "AUDIT_KIND",
    "POSTED_KIND",
    "SECTION_TITLES",
    "STEPS",
    "TOKEN_ENV",
    "ActionsSection",
    "AnomaliesSection",
    "Chart",
    "CreatorsSection",
    "Digest",
    "DigestRun",
    "EngagementSection",
    "ExperimentsSection",
    "IsoWeek",
    "PublishResult",
    "SentimentSection",
    "SlackImage",
    "SlackPost",
    "SlackPoster",
    "SupportSection",
    "VolumeSection",
    "WeeklySchedule",
    "build_digest",
    "dashboard_linker",
    "default_output",
    "digest_blocks",
    "escape_mrkdwn",
    "find_posted",
    "last_complete_week",
    "parse_schedule",
    "parse_week",
    "publish_digest",
    "render_html",
    "run_digest",
    "run_weekly",
    "write_html",
]
