"""Keyed pseudonymisation of handles, e-mail addresses and phone numbers.

A keyed hash (HMAC-SHA256) maps the same handle to the same pseudonym on one
installation, so analytics still group by account, while nobody without the key
can reverse or re-identify it by hashing guesses.
"""

from __future__ import annotations

import hashlib
import hmac
import re

HANDLE_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,30})\b")
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
# International or local phone numbers: 9+ digits with optional separators.
PHONE_RE = re.compile(r"(?<!\w)\+?\d(?:[\s().-]{0,2}\d){8,14}(?!\w)")
PSEUDONYM_RE = re.compile(r"^(acct|u)_[0-9a-f]{12}$")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


class Pseudonymizer:
    """Replace personal identifiers with keyed, stable pseudonyms.

    Args:
        key: The secret key (``Settings.pseudonym_key()``).
    """

    def __init__(self, key: bytes) -> None:
        self.key = key

    def _digest(self, value: str) -> str:
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:12]

    def account(self, handle: str) -> str:
        """Pseudonym of an account handle (case and a leading ``@`` are ignored).

        A value that is already a pseudonym is returned unchanged, so re-ingesting
        pseudonymised data is idempotent.
        """
        cleaned = handle.strip()
        if PSEUDONYM_RE.match(cleaned):
            return cleaned
        return f"acct_{self._digest(cleaned.lstrip('@').lower())}"

    def mention(self, handle: str) -> str:
        """The ``@u_...`` form used for a handle mentioned inside a text."""
        return f"@u_{self._digest(handle.lstrip('@').lower())}"

    def text(self, text: str) -> str:
        """Pseudonymise e-mails, phone numbers and @mentions inside free text."""
        text = EMAIL_RE.sub(lambda m: f"<email_{self._digest(m.group(0).lower())}>", text)
        text = PHONE_RE.sub(lambda m: f"<phone_{self._digest(_digits(m.group(0)))}>", text)
        return HANDLE_RE.sub(
            lambda m: m.group(0) if PSEUDONYM_RE.match(m.group(1)) else self.mention(m.group(1)),
            text,
        )
