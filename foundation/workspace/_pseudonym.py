"""Keyed pseudonymisation of handles, e-mail addresses, phone, card and IBAN numbers.

A keyed hash (HMAC-SHA256) maps the same handle to the same pseudonym on one
installation, so analytics still group by account, while nobody without the key
can reverse or re-identify it by hashing guesses.

What free text loses (:meth:`Pseudonymizer.text`), each replaced as a whole by a
placeholder such as ``<card_3f9a0c1d2e4b>``:

- e-mail addresses;
- IBANs (``python-stdnum``'s checksum), with or without spaces;
- payment card numbers: 13 to 19 digits, spaces or dashes allowed, that pass the
  Luhn check (``python-stdnum``), so no last four digits stay in clear;
- phone numbers (``phonenumbers``): a number written with ``+`` and a country code
  when its length is possible for that country; a national number when it is a
  valid number of the default region (``BEACON_PHONE_REGION``, GB unless set). So an
  order or reference number ("order 12345678") is not taken for a phone;
- ``@mentions`` (``@u_`` and a pseudonym).

Personal names and postal addresses are not detected (docs/security_data.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import phonenumbers
from stdnum import iban, luhn

from foundation.exceptions import ConfigError

if TYPE_CHECKING:
    from foundation.settings import Settings

HANDLE_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_]{1,30})\b")
EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
PSEUDONYM_RE = re.compile(r"^(acct|u)_[0-9a-f]{12}$")
#: Pseudonyms and placeholders already in a text: never searched again for numbers.
_PLACEHOLDER_RE = re.compile(r"<[a-z]+_[0-9a-f]{12}>|\b(?:acct|u)_[0-9a-f]{12}\b")
#: Digit groups separated by one space or dash; sub-runs of 13-19 digits are card candidates.
_DIGIT_RUN_RE = re.compile(r"(?<![\w.,])\d+(?:[ -]\d+)*(?![\w])")
_CARD_DIGITS = range(13, 20)
#: A country code and check digits, then letters and digits with optional single spaces.
_IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,40}")
_IBAN_CHARS = range(15, 35)
#: Seven digits or more with at most three separators between two: maybe a phone number.
_PHONE_HINT_RE = re.compile(r"\d(?:[\s().\-/]{0,3}\d){6,}")
_PHONE_CONTEXT = 8  # characters kept around a stretch: a "+", "(", "tel:" before it
#: Fewer digits than this cannot hold a phone, card or IBAN: such texts skip the scan.
_MIN_NUMBER_DIGITS = 6

#: The region whose national phone formats are read when none is configured.
DEFAULT_PHONE_REGION = "GB"


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


class Pseudonymizer:
    """Replace personal identifiers with keyed, stable pseudonyms.

    Args:
        key: The secret key (``Settings.pseudonym_key()``).
        region: ISO 3166 code of the country whose national phone formats are read
            (numbers written with ``+`` and a country code are read for any country).

    Raises:
        ConfigError: ``region`` is not a country ``phonenumbers`` knows.
    """

    def __init__(self, key: bytes, *, region: str = DEFAULT_PHONE_REGION) -> None:
        if region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(
                "the phone region must be a two-letter country code such as GB or US "
                f"(got {region!r}); set BEACON_PHONE_REGION"
            )
        self.key = key
        self.region = region.upper()

    @classmethod
    def from_settings(cls, settings: Settings) -> Pseudonymizer:
        """The installation's pseudonymizer: its key and phone region from ``settings``."""
        return cls(settings.pseudonym_key(), region=settings.phone_region)

    def _digest(self, value: str) -> str:
        return hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:12]

    def _placeholder(self, kind: str, value: str) -> str:
        return f"<{kind}_{self._digest(value)}>"

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
        """Pseudonymise e-mails, IBANs, card and phone numbers and @mentions in free text."""
        text = EMAIL_RE.sub(lambda m: self._placeholder("email", m.group(0).lower()), text)
        if sum(char.isdigit() for char in text) >= _MIN_NUMBER_DIGITS:
            text = _replace(text, self._ibans(text))
            text = _replace(text, self._cards(text))
            text = _replace(text, self._phones(text))
        return HANDLE_RE.sub(
            lambda m: m.group(0) if PSEUDONYM_RE.match(m.group(1)) else self.mention(m.group(1)),
            text,
        )

    def payment(self, text: str) -> str:
        """Hide only IBANs and card numbers (whole, no last four digits) in ``text``.

        For words a person must still read, such as a customer's quoted turns in a
        staff hand-off, where an e-mail or a phone number may be how to reach them.
        """
        if sum(char.isdigit() for char in text) < _MIN_NUMBER_DIGITS:
            return text
        return _replace(_replace(text, self._ibans(text)), self._cards(text))

    def value(self, value: Any, *, keep: Callable[[str], bool] | None = None) -> Any:
        """``value`` with :meth:`text` applied to every string in it (dicts, lists, tuples).

        Keys, numbers and other values are kept, so a JSON document keeps its shape.

        Args:
            value: A JSON-like value.
            keep: Says which dict keys hold identifiers to keep as they are (a post id
                of 19 digits may pass the Luhn check); everything under them is kept.
        """
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                key: item
                if keep is not None and isinstance(key, str) and keep(key)
                else self.value(item, keep=keep)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(item, keep=keep) for item in value]
        return value

    # -- finders: (start, end, placeholder) of each identifier, left to right ----------

    def _ibans(self, text: str) -> Iterator[tuple[int, int, str]]:
        for match in _IBAN_RE.finditer(text):
            # The pattern may run on into the next words: take the longest valid prefix.
            candidate = match.group(0)
            for end in range(len(candidate), 0, -1):
                if end < len(candidate) and candidate[end].isalnum() and candidate[end - 1] != " ":
                    continue  # an IBAN ends at a word boundary
                prefix = candidate[:end].rstrip()
                compact = prefix.replace(" ", "").upper()
                if len(compact) in _IBAN_CHARS and iban.is_valid(compact):
                    start = match.start()
                    yield start, start + len(prefix), self._placeholder("iban", compact)
                    break

    def _cards(self, text: str) -> Iterator[tuple[int, int, str]]:
        for match in _DIGIT_RUN_RE.finditer(text):
            for start, end, digits in _cards_in(match.group(0)):
                yield match.start() + start, match.start() + end, self._placeholder("card", digits)

    def _phones(self, text: str) -> Iterator[tuple[int, int, str]]:
        # phonenumbers' matcher is slow on long texts (a reply full of numbers takes tens
        # of ms), so it reads only the stretches that hold seven digits or more.
        for start, end in _phone_windows(text):
            for m_start, m_end, number in self._phones_in(text[start:end]):
                yield start + m_start, start + m_end, number

    def _phones_in(self, text: str) -> Iterator[tuple[int, int, str]]:
        # National numbers: the VALID leniency, which also wants them written the way the
        # region writes them (its trunk prefix), so "order 1234567890" stays an order.
        found = {
            (match.start, match.end): match.number
            for match in phonenumbers.PhoneNumberMatcher(
                text, self.region, leniency=phonenumbers.Leniency.VALID
            )
        }
        # "+" and a country code: a possible length is enough (fictional ranges too).
        for match in phonenumbers.PhoneNumberMatcher(
            text, self.region, leniency=phonenumbers.Leniency.POSSIBLE
        ):
            if match.raw_string.lstrip("(").startswith("+"):
                found.setdefault((match.start, match.end), match.number)
        for (start, end), number in sorted(found.items(), key=lambda item: item[0]):
            e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
            yield start, end, self._placeholder("phone", e164)


def _phone_windows(text: str) -> list[tuple[int, int]]:
    """Stretches of ``text`` that may hold a phone number, with a few characters around
    them (the matcher looks at its neighbours), overlapping ones merged."""
    windows: list[tuple[int, int]] = []
    for match in _PHONE_HINT_RE.finditer(text):
        start, end = max(0, match.start() - _PHONE_CONTEXT), match.end() + _PHONE_CONTEXT
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(end, windows[-1][1]))
        else:
            windows.append((start, end))
    return windows


def _cards_in(run: str) -> list[tuple[int, int, str]]:
    """Every card number in a run of digit groups: (start, end, digits), left to right."""
    best = _card_in(run)
    if best is None:
        return []
    start, end, _ = best
    after = [(s + end, e + end, d) for s, e, d in _cards_in(run[end:])]
    return [*_cards_in(run[:start]), best, *after]


def _card_in(run: str) -> tuple[int, int, str] | None:
    """The widest window of whole digit groups in ``run`` that is a Luhn-valid card number.

    A window, not the whole run, so a card followed by its security code or preceded
    by another number is still found. Returns (start, end, digits) within ``run``.
    """
    groups = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"\d+", run)]
    best: tuple[int, int, str] | None = None
    for first in range(len(groups)):
        digits = ""
        for _start, end, group in groups[first:]:
            digits += group
            if len(digits) > _CARD_DIGITS[-1]:
                break
            if len(digits) in _CARD_DIGITS and luhn.is_valid(digits):
                window = (groups[first][0], end, digits)
                if best is None or end - window[0] > best[1] - best[0]:
                    best = window
    return best


def _replace(text: str, found: Iterator[tuple[int, int, str]]) -> str:
    """``text`` with each found span replaced, skipping spans that overlap a placeholder."""
    protected = [(m.start(), m.end()) for m in _PLACEHOLDER_RE.finditer(text)]
    pieces: list[str] = []
    position = 0
    for start, end, placeholder in found:
        if start < position or any(start < p_end and p_start < end for p_start, p_end in protected):
            continue
        pieces.append(text[position:start])
        pieces.append(placeholder)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
