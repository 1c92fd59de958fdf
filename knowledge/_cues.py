"""Answer-type cues: what kind of fact a question asks for, and whether a sentence holds one.

"How much is the budget?" wants money, "by when?" a date, "how long?" a duration,
"what size?" a measurement, "how many?" a count, "what share?" a percentage. A sentence
holding that kind of fact is a better quote than one that only shares the question's
words (the campaign-id line of a brief shares "holiday" with "how much money does the
holiday campaign have?", but the budget sentence holds the euros).
"""

from __future__ import annotations

import re
from typing import Literal

AnswerType = Literal["money", "percent", "date", "duration", "size", "count"]

_NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|ninety|hundred|once|twice"
)
_NUMBER = rf"(?:\d[\d,.]*|{_NUMBER_WORDS})"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)days?|weekdays?|weekends?"
_UNIT_LENGTH = r"(?:cm|mm|km|m|centimet(?:re|er)s?|millimet(?:re|er)s?|kilomet(?:re|er)s?|metres?)"

#: Question patterns, checked in this order; the first that matches names the type.
_QUESTION_CUES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (
        "percent",
        re.compile(
            r"%|\bper ?cent|\bpercentage\b|\bshare\b|\bhow much of\b|\bwhat part of\b|"
            r"\bproportion\b|\brate\b|\bsplit\b"
        ),
    ),
    (
        "size",
        re.compile(
            r"\bweigh|\bweight\b|\bsizes?\b|\bhow (?:big|large|small|deep|tall|wide|heavy)\b|"
            r"\bhow much room\b|\blength\b|\bdrop\b|\b(?:in|of) (?:cm|mm|km|centimet\w*)\b|"
            r"\bdimensions?\b|\bhow far\b|\btemperature\b|\bhow hot\b|\bdegrees\b"
        ),
    ),
    (
        "money",
        re.compile(
            r"\bhow much\b(?! (?:time|room|space|longer))|\bcosts?\b|\bprices?d?\b|\bbudget|\bspend|\bcharges?\b|\bfees?\b|"
            r"\bmoney\b|\brevenue\b|\beuros?\b|€|\$|\baov\b|\border value\b|\bcpa\b|"
            r"\bcost per\b|\bpostage\b|\bminimum order\b|\bexpensive\b|\bcheap"
        ),
    ),
    (
        "duration",
        re.compile(
            r"\bhow long\b|\bhow much time\b|\bhow (?:fast|quick(?:ly)?|soon)\b|\bhow many (?:days|weeks|hours|"
            r"minutes|months|years)\b|\bwithin\b|\bvalid for\b|\bturnaround\b"
        ),
    ),
    (
        "date",
        re.compile(
            r"\bwhen\b|\bwhat date|\bwhich date|\bdates?\b|\bdeadlines?\b|\blast day\b|"
            r"\bby when\b|\buntil\b|\btill\b|\bstarts?\b|\bends?\b|\bkicks? off\b|\bwhat time\b|"
            r"\bschedule\b|\bdue\b|\bwhat day\b|\bwindow\b|\btime\b|\bhours\b|\bweek(?:day|end)s?\b"
        ),
    ),
    (
        "count",
        re.compile(
            r"\bhow many\b|\bhow often\b|\bnumber of\b|\bmax(?:imum)?\b|\bmin(?:imum)?\b|"
            r"\bat most\b|\bat least\b|\blimit\b|\bper (?:week|day|post|month|arm)\b|\btarget\b"
        ),
    ),
)

_ANSWER_PATTERNS: dict[AnswerType, re.Pattern[str]] = {
    "money": re.compile(
        rf"\d[\d,.]*\s*(?:million\s+|thousand\s+|k\s+)?(?:euros?|eur\b|dollars?|pounds?)|"
        rf"[€$£]\s*\d|\bfree\b|\bprice_\w+|\bcosts?\b\s+\d|\b{_NUMBER}\s+euros?\b",
        re.IGNORECASE,
    ),
    "percent": re.compile(r"\d+(?:[.,]\d+)?\s*%|\bper ?cent\b", re.IGNORECASE),
    "date": re.compile(
        rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\b|\b{_MONTH}\s+\d{{1,2}}\b|"
        rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b(?:{_DAY})\b|\b\d{{1,2}}:\d{{2}}\b|"
        rf"\b{_MONTH}\s+\d{{4}}\b|"
        rf"\bdays? \d+\b|\b(?:morning|evening|midday|noon|midnight)\b",
        re.IGNORECASE,
    ),
    "duration": re.compile(
        rf"\b{_NUMBER}(?:\s*(?:to|-|–|and)\s*{_NUMBER})?\s+(?:working\s+|business\s+)?"
        rf"(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?)\b|\bimmediately\b|"
        rf"\bwithin minutes\b|\b\d+\s*(?:h|min)\b",
        re.IGNORECASE,
    ),
    "size": re.compile(
        rf"\b\d+(?:[.,]\d+)?\s*{_UNIT_LENGTH}\b|\b\d+(?:[.,]\d+)?\s*(?:g|kg|grams?|°c)(?!\w)|"
        rf"\b(?:eu|uk|us)_?\s?(?:size|men|women)\b|\bfoot_length|\b(?:xs|xxl|xl)\b|"
        rf"\bsizes?\b|\bwide fit\b|\b{_NUMBER}\s+(?:thumb|finger)",
        re.IGNORECASE,
    ),
    "count": re.compile(rf"\b{_NUMBER}\b", re.IGNORECASE),
}


def question_type(question: str) -> AnswerType | None:
    """The kind of fact ``question`` asks for, or None when it asks for no figure."""
    lowered = " ".join(question.lower().replace("’", "'").split())
    for answer_type, pattern in _QUESTION_CUES:
        if pattern.search(lowered):
            return answer_type
    return None


def holds_answer_type(sentence: str, answer_type: AnswerType | None) -> bool:
    """Whether ``sentence`` holds a fact of ``answer_type`` (False when the type is None)."""
    if answer_type is None:
        return False
    return _ANSWER_PATTERNS[answer_type].search(sentence) is not None
