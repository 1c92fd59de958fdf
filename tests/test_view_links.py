"""Signed dashboard links: what they open, and what they refuse."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from foundation.view_links import DEFAULT_TTL_S, LinkError, ViewLink, link_key, read_link, sign_link

KEY = link_key("staff-secret")
NOW = 1_800_000_000.0


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def _link(**filters: str | None) -> str:
    return sign_link("http://dash.example:8501/", "brand", filters, KEY, now=NOW)


def test_a_signed_link_opens_its_view_with_its_filters_until_it_expires() -> None:
    url = _link(platform="instagram", start="2026-11-01", end="2026-11-30", topic=None)
    assert url.startswith("http://dash.example:8501/?view=brand&")
    opened = read_link(_query(url), KEY, now=NOW + DEFAULT_TTL_S - 1)
    assert opened == ViewLink(
        "brand",
        {"platform": "instagram", "start": "2026-11-01", "end": "2026-11-30"},
        int(NOW + DEFAULT_TTL_S),
    )
    with pytest.raises(LinkError, match="expired"):
        read_link(_query(url), KEY, now=NOW + DEFAULT_TTL_S)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("platform", "twitter"),
        ("start", "2026-01-01"),
        ("view", "experiments"),
        ("expires", "9999999999"),
    ],
)
def test_changing_any_part_of_a_link_breaks_it(name: str, value: str) -> None:
    query = _query(_link(platform="instagram", start="2026-11-01", end="2026-11-30"))
    query[name] = value
    with pytest.raises(LinkError, match="changed"):
        read_link(query, KEY, now=NOW)


def test_an_added_filter_or_another_installation_key_breaks_it() -> None:
    query = _query(_link(platform="instagram"))
    with pytest.raises(LinkError, match="changed"):
        read_link({**query, "topic": "refund"}, KEY, now=NOW)
    with pytest.raises(LinkError, match="changed"):
        read_link(query, link_key("another-secret"), now=NOW)


def test_an_unsigned_address_or_unknown_parameter_is_refused_with_a_reason() -> None:
    with pytest.raises(LinkError, match="not a signed dashboard link"):
        read_link({"view": "brand", "platform": "instagram"}, KEY, now=NOW)
    query = _query(_link())
    with pytest.raises(LinkError, match="unknown dashboard filter"):
        read_link({**query, "debug": "1"}, KEY, now=NOW)
    with pytest.raises(LinkError, match="unknown dashboard view 'admin'"):
        sign_link("http://x", "admin", {}, KEY)
    with pytest.raises(LinkError, match="longer than 500"):
        sign_link("http://x", "creators", {"brief": "x" * 501}, KEY)


def test_values_are_escaped_in_the_address() -> None:
    url = sign_link("http://x", "creators", {"brief": "trail & road <shoes>"}, KEY, now=NOW)
    assert "trail+%26+road+%3Cshoes%3E" in url
    assert read_link(_query(url), KEY, now=NOW).filters == {"brief": "trail & road <shoes>"}
