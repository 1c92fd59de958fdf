"""The HTML digest: self-contained, accessible, and every audit id resolves."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from beacon.digest import SECTION_TITLES, render_html, write_html
from foundation.exceptions import InputError
from tests.digest.conftest import EXPERIMENT_WEEK, SPIKE_WEEK, DemoDigests


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str | None]] = []
        self.headings: list[str] = []
        self.th_scopes: list[str | None] = []
        self.lang: str | None = None
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        if tag == "img":
            self.images.append(values)
        if tag == "th":
            self.th_scopes.append(values.get("scope"))
        self._in_heading = tag in {"h1", "h2"}

    def handle_endtag(self, tag: str) -> None:
        self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.headings.append(data)


def test_html_is_self_contained_and_accessible(demo_digests: DemoDigests, tmp_path: Path) -> None:
    digest = demo_digests.digests[SPIKE_WEEK]
    path = write_html(digest, tmp_path / "out" / "digest.html")
    page = path.read_text(encoding="utf-8")
    parsed = _Collector()
    parsed.feed(page)
    assert parsed.lang == "en"
    assert parsed.headings[0] == "Trailbird weekly digest, 2026-W43"
    assert set(SECTION_TITLES.values()) <= set(parsed.headings)
    assert parsed.th_scopes and all(scope in {"col", "row"} for scope in parsed.th_scopes)
    assert len(parsed.images) == len(digest.charts) == 2
    for image, chart in zip(parsed.images, digest.charts, strict=True):
        src = image["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == chart.png
        assert chart.png.startswith(b"\x89PNG")
        assert image["alt"] == chart.alt and "2026-W43" in chart.alt
    assert not re.search(r"""(src|href)=["']https?://""", page), "no outside resources"
    assert "<script" not in page
    # the numbers in the page are the digest's
    assert f"{digest.volume.total.brand_posts:,} posts about the brand" in page
    alert = next(a for a in digest.anomalies.report.alerts if a.metric == "negative share")
    assert f"Negative talk on Twitter/X jumped to {100 * alert.observed:.0f}%" in page


def test_audit_ids_in_the_html_resolve_to_rows(demo_digests: DemoDigests) -> None:
    digest = demo_digests.digests[EXPERIMENT_WEEK]
    page = render_html(digest)
    shown = re.findall(r"Audit id <code>([0-9a-f]{16})</code>", page)
    assert sorted(shown) == sorted(digest.audit_ids.values())
    with demo_digests.workspace.connect() as con:
        kinds = con.execute(
            "SELECT kind, json_extract_string(inputs, '$.section') FROM audit "
            "WHERE list_contains(?, audit_id)",
            [shown],
        ).fetchall()
    assert sorted(kinds) == sorted(("digest_section", key) for key in SECTION_TITLES)
    assert "Roll out question from the Subject-line test" in page
    assert 'href="#experiments"' in page


def test_unwritable_output_is_an_input_error(demo_digests: DemoDigests, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"--out must be a file such as digest.html"):
        write_html(demo_digests.digests[SPIKE_WEEK], tmp_path)
