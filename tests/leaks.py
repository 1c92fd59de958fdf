"""What a user must never read: file paths, exception names, stack traces.

Used on every reply of the end-to-end suite (tests/e2e/conftest.py), the fuzz run and
the fault tests.
"""

from __future__ import annotations

import re

LEAK_PATTERNS: dict[str, re.Pattern[str]] = {
    "traceback": re.compile(r"Traceback \(most recent call last\)|\bFile \"[^\"]+\", line \d+"),
    "exception name": re.compile(
        r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\b(?:IO|Catalog|Connection) Error:"
    ),
    "file path": re.compile(
        r"(?:^|[\s(\"'`=])(?:/(?:tmp|work|root|home|usr|var|etc|opt|srv)/|~/|\.{1,2}/)\S*"
        r"|\b[\w./-]+\.(?:duckdb|py|faiss|sqlite|jsonl|lock)\b"
    ),
}


#: What may surround a quoted path: stripped before comparing with the user's words.
QUOTES = " ()\"'`=“”‘’.,;:!?…"


def leaks(text: str, said: str = "") -> list[str]:
    """The kinds of internal detail in ``text`` (empty when it is safe to show).

    Args:
        text: What the user is shown.
        said: What the user wrote: a reply quoting it ("which experiment is
            '../etc/passwd'?") shows them nothing new.
    """
    return [
        name
        for name, pattern in LEAK_PATTERNS.items()
        if any(match.group(0).strip(QUOTES) not in said for match in pattern.finditer(text))
    ]
