"""Outside text made safe to show: terminals (``beacon chat``) and log lines."""

from __future__ import annotations

import io
import logging

from beacon.chat import render_message
from foundation.text import install_log_filter, loggable, visible_text

HOSTILE = "great \x1b[2J\x1b]0;pwned\x07 shoes\u202e"


def test_chat_output_drops_terminal_escapes() -> None:
    shown = render_message({"text": f'A customer said: "{HOSTILE}"', "buttons": [{"title": "ok"}]})
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "great [2J]0;pwned shoes" in shown and shown.endswith("[ok]")


def test_visible_text_keeps_newlines_and_tabs() -> None:
    assert visible_text("a\tb\nc\x00\u200b") == "a\tb\nc"


def test_log_lines_show_escapes_instead_of_running_them() -> None:
    assert loggable("hi\x1b[31m\nFAKE ERROR") == "hi\\x1b[31m\\nFAKE ERROR"
    assert loggable("plain\ttext") == "plain\ttext"


def test_the_log_filter_escapes_every_record_once_installed() -> None:
    logger = logging.getLogger("beacon-text-test")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        install_log_filter(logger)
        install_log_filter(logger)  # twice: still one filter
        assert len(handler.filters) == 1
        logger.warning("customer %s said %r", "s\x1b[2J", "x\ny")
    finally:
        logger.removeHandler(handler)
    line = stream.getvalue()
    assert "\x1b" not in line and line.count("\n") == 1
    assert "s\\x1b[2J" in line
