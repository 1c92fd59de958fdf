"""Small helpers over a DuckDB connection, shared by the workspace's modules."""

from __future__ import annotations

from typing import Any

import duckdb


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...] | None:
    """First row of a query, or None; fetches to the end so the connection stays usable."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None
