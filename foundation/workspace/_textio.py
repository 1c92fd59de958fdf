"""Opening source files whose encoding nobody wrote down."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO


def open_text(path: Path) -> TextIO:
    """Open a CSV as UTF-8 (BOM tolerated), falling back to latin-1 for old exports."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            handle.read()
        return path.open(encoding="utf-8-sig", newline="")
    except UnicodeDecodeError:
        return path.open(encoding="latin-1", newline="")
