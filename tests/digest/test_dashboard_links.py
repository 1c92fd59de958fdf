"""Every digest section that has a dashboard view links to it with the week's dates."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from beacon.digest import SECTION_TITLES, build_digest, dashboard_linker, digest_blocks, render_html
from beacon.digest._types import SECTION_VIEWS
from foundation.settings import Settings
from foundation.view_links import read_link
from tests.digest.conftest import LAST_WEEK, DemoDigests


def _settings(tmp_path: Path, dashboard_url: str | None) -> Settings:
    return Settings(
        home=tmp_path,
        workspace_path=tmp_path / "unused.duckdb",
        data_dir=None,
        staff_token="t" * 32,
        dashboard_url=dashboard_url,
    )


def test_sections_link_to_their_view_of_the_same_week(
    demo_digests: DemoDigests, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, "https://dash.example")
    digest = build_digest(
        demo_digests.workspace,
        LAST_WEEK,
        model_version=demo_digests.model_version,
        link=dashboard_linker(settings),
    )
    assert set(digest.links) == set(SECTION_VIEWS)
    for key, url in digest.links.items():
        opened = read_link(dict(parse_qsl(urlsplit(url).query)), settings.dashboard_link_key())
        assert opened.view == SECTION_VIEWS[key]
        assert dict(opened.filters) == {
            "start": LAST_WEEK.start.isoformat(),
            "end": LAST_WEEK.end.isoformat(),
        }

    slack = " ".join(block["text"]["text"] for block in digest_blocks(digest) if "text" in block)
    in_slack = re.findall(r"<(https://dash\.example/\?[^|>]+)\|Open in the dashboard>", slack)
    assert len(in_slack) == len(SECTION_VIEWS)
    page = render_html(digest)
    assert page.count(">Open in the dashboard</a>") == len(SECTION_VIEWS)
    assert set(SECTION_VIEWS) < set(SECTION_TITLES)


def test_no_dashboard_means_no_links(demo_digests: DemoDigests, tmp_path: Path) -> None:
    assert dashboard_linker(_settings(tmp_path, None)) is None
    digest = demo_digests.digests[LAST_WEEK]
    assert digest.links == {}
    assert "dashboard" not in render_html(digest).lower()
    assert "Open in the dashboard" not in str(digest_blocks(digest))
