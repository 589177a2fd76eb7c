"""Dates as documents print them ("23 March 2010", "March 20, 2013", "October 27–29, 2020",
"November 2024", "2024-11-07"), read as ISO dates for a citation: ``YYYY-MM-DD``, or
``YYYY-MM`` where only the month is printed (or a range of days). A day that the month does
not have is no date."""

from __future__ import annotations

import re

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
           "october", "november", "december")
_MONTH = r"(?P<month>" + "|".join(m.capitalize() for m in _MONTHS) + r"|" + "|".join(
    m[:3].capitalize() + r"\." for m in _MONTHS) + r")"
_DATES = [
    re.compile(r"\b(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>(?:19|20)\d{2})\b"),
    re.compile(r"\b" + _MONTH + r"\s+(?P<day>\d{1,2})(?P<range>\s*[–-]\s*\d{1,2})?,\s+(?P<year>(?:19|20)\d{2})\b"),
    re.compile(r"\b(?P<year>(?:19|20)\d{2})-(?P<mnum>[01]\d)-(?P<day>[0-3]\d)\b"),
    re.compile(r"\b" + _MONTH + r"\s+(?P<year>(?:19|20)\d{2})\b"),
]

def date_in(text: str) -> str:
    """The first date in ``text`` as YYYY-MM-DD (YYYY-MM where only month and year are printed,
    or a day range is)."""
    best: tuple[int, str] | None = None
    wrong: list[tuple[int, int]] = []  # "30 February 2023": no date, and no "February 2023" either
    for pattern in _DATES:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in wrong):
                continue
            groups = m.groupdict()
            if groups.get("mnum"):
                month = int(groups["mnum"])
            else:
                month = _MONTHS.index(next(x for x in _MONTHS if x.startswith(groups["month"][:3].lower()))) + 1
            year = int(groups["year"])
            if not 1 <= month <= 12:
                continue
            day = int(groups["day"]) if groups.get("day") and not groups.get("range") else 0
            if day and not 1 <= day <= days_in(year, month):
                wrong.append(m.span())
                continue
            value = f"{year:04d}-{month:02d}" + (f"-{day:02d}" if day else "")
            if best is None or m.start() < best[0]:
                best = (m.start(), value)
            break
    return best[1] if best else ""


def days_in(year: int, month: int) -> int:
    """The number of days of ``month`` in ``year``."""
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31
