"""Render every benchmark page again from its stored JSON, without running anything.

    python -m benchmarks.render          # rewrite docs/benchmarks/*.md and docs/benchmarks.md
    python -m benchmarks.render --check  # exit 1 and name the pages that are out of date

A page is out of date when its template changed, or when someone typed into it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks._report import (
    DOCS,
    INDEX,
    TEMPLATES,
    page_path,
    render_index,
    render_page,
    stored_records,
)


def expected_pages(docs: Path = DOCS, templates: Path = TEMPLATES) -> dict[Path, str]:
    """Every page that the stored JSON in ``docs`` renders to, with its text."""
    pages = {
        page_path(docs / f"{record['benchmark']}.json"): render_page(record, templates)
        for record in stored_records(docs)
    }
    if docs == DOCS:
        pages[INDEX] = render_index(docs, templates)
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a page is out of date"
    )
    args = parser.parse_args(argv)
    stale = []
    for path, text in expected_pages().items():
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "rewrote"
    for path in stale:
        print(f"{verb}: {path.relative_to(DOCS.parents[1])}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
