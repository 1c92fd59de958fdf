"""Text that came from outside, made safe to show: on a terminal, in a log line.

Standard library only: the bot environment (Python 3.10, Rasa) imports it too.
"""

from __future__ import annotations

import logging
import unicodedata

#: Unicode categories that draw nothing: controls (ESC, BEL, ...) and format
#: characters (bidirectional overrides, zero-width joiners).
_INVISIBLE = ("Cc", "Cf")


def visible_text(text: str) -> str:
    """``text`` without control and invisible format characters (tabs and newlines stay).

    Used on every message a channel accepts and on everything ``beacon chat`` prints, so
    an ANSI escape sequence in a customer's text can't clear or rewrite a staff
    member's terminal, and a right-to-left override can't disguise what is shown.
    """
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _INVISIBLE)


def loggable(text: str) -> str:
    """``text`` with every control and format character written as an escape (``\\x1b``).

    Newlines too: a customer's message must not start a forged line in the log.
    """
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if ch != "\t" and unicodedata.category(ch) in _INVISIBLE
        else ch
        for ch in text
    )


class ControlCharacterFilter(logging.Filter):
    """Escapes control characters in each record's message (its traceback is left alone)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = loggable(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_filter(logger: logging.Logger | None = None) -> None:
    """Add :class:`ControlCharacterFilter` to every handler of ``logger`` (the root), once."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, ControlCharacterFilter) for f in handler.filters):
            handler.addFilter(ControlCharacterFilter())
