"""Which posts a brand-talk analysis reads: one frozen value instead of six arguments.

Sentiment summaries, themes, daily series, anomaly checks and the weekly digest all
select posts the same way; a :class:`Scope` carries that selection from the question (a
chat turn, a CLI call, a digest section) to the SQL: :meth:`Scope.for_brand` reads the
workspace's brand selection and :meth:`Scope.where` turns the scope into SQL, each in one
place. Scopes are hashable, so they can key a cache of results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

import duckdb

from analytics.periods import Period
from analytics.support import SUPPORT_PLATFORM
from foundation.workspace import get_meta

__all__ = ["Scope", "brand_pattern"]


def brand_pattern(terms: Iterable[str]) -> str:
    """The regular expression, matched against lower-cased text, for any of ``terms``."""
    return "|".join(re.escape(term.lower()) for term in terms)


@dataclass(frozen=True)
class Scope:
    """The posts an analysis reads: brand talk in one period, scored by one model.

    Attributes:
        period: The days to read (``posted_at`` as a UTC date, both ends included).
        model_version: Whose sentiment labels to use (``scores.model_version``).
        platform: Only this workspace platform; None for every platform.
        topic: Only posts whose text contains it (case-insensitive) or whose campaign id
            matches it (spaces read as dashes); None for every topic.
        exclude_accounts: Pseudonymised accounts left out: the brand's own.
        brand_terms: Only posts containing one of these (case-insensitive); empty for
            every post.
    """

    period: Period
    model_version: str
    platform: str | None = None
    topic: str | None = None
    exclude_accounts: tuple[str, ...] = ()
    brand_terms: tuple[str, ...] = ()

    def replace(self, **changes: Any) -> Scope:
        """The same scope with some fields changed, e.g. ``scope.replace(period=previous)``."""
        return replace(self, **changes)

    def for_brand(self, con: duckdb.DuckDBPyConnection) -> Scope:
        """This scope narrowed to the workspace's brand talk.

        Every brand-talk analysis selects posts the same way: not by the brand's own
        accounts (the ``own_accounts`` meta) and mentioning it (``brand_terms``, when set).
        A topic that is the brand itself ("the mood around trailbird") is what brand talk
        already means, so it is dropped rather than searched for as a word.
        """
        brand_terms = tuple(get_meta(con, "brand_terms") or ())
        names = {str(n).strip().lower() for n in (*brand_terms, get_meta(con, "brand", ""))}
        topic = self.topic
        if topic is not None and topic.strip().lower() in names:
            topic = None
        return self.replace(
            exclude_accounts=tuple(get_meta(con, "own_accounts", []) or ()),
            brand_terms=brand_terms,
            topic=topic,
        )

    def where(self, *, support_chats: bool = True) -> tuple[str, list[Any]]:
        """SQL conditions on ``posts p`` for everything but the period, accounts and model.

        Args:
            support_chats: Count the support widget's chats as brand talk whether or not
                they name the brand (listening), or leave them out (anomaly checks: chats
                follow the widget's traffic, not public talk).

        Returns:
            ``(sql, params)``: ``sql`` is empty or a run of `` AND ...`` clauses; ``params``
            fills its placeholders in order.
        """
        clauses: list[str] = []
        params: list[Any] = []
        if not support_chats:
            clauses.append(f"p.platform <> '{SUPPORT_PLATFORM}'")
        if self.brand_terms:
            if support_chats:
                clauses.append(
                    f"(p.platform = '{SUPPORT_PLATFORM}' OR regexp_matches(lower(p.text), ?))"
                )
            else:
                clauses.append("regexp_matches(lower(p.text), ?)")
            params.append(brand_pattern(self.brand_terms))
        if self.platform:
            clauses.append("p.platform = ?")
            params.append(self.platform)
        if self.topic:
            clauses.append(
                "(contains(lower(p.text), lower(?))"
                " OR lower(coalesce(p.campaign_id, '')) = lower(?))"
            )
            params += [self.topic, self.topic.replace(" ", "-")]
        return "".join(f" AND {clause}" for clause in clauses), params
