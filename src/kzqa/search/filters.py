"""Which documents a question is answered from: filters a user sets (documents,
publishers, countries, a range of years) and the country a question is about.

A library holds documents about other countries too. A question that names a country the
library has documents about is answered from those; a question that names none is
answered from documents about the bot's own country (``Settings.country``) or that state
no country. The year of a document is the period it reports on when known (a report's
year), else the year of its date (``Source.year``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kzqa.documents import Source
from kzqa.errors import KzqaError

# Other words for a country that questions use (adjectives, short names). A country's own
# name always counts; these are the forms it does not contain.
ALSO_CALLED: dict[str, tuple[str, ...]] = {
    "Kazakhstan": ("Kazakh", "Kazakhstani", "Qazaqstan"),
    "Kyrgyzstan": ("Kyrgyz",), "Uzbekistan": ("Uzbek",), "Tajikistan": ("Tajik",),
    "Turkmenistan": ("Turkmen",), "Russia": ("Russian", "Russian Federation"),
    "China": ("Chinese", "PRC"), "Nicaragua": ("Nicaraguan",), "Slovenia": ("Slovenian", "Slovene"),
    "United States": ("U.S.", "USA", "United States of America", "American"),
}
# Places a question may name instead of its country ("How overcrowded is Ljubljana prison?"):
# capitals and the largest cities.
PLACES: dict[str, tuple[str, ...]] = {
    "Kazakhstan": ("Astana", "Nur-Sultan", "Almaty", "Shymkent", "Karaganda", "Aktobe", "Zhanaozen"),
    "Kyrgyzstan": ("Bishkek",), "Uzbekistan": ("Tashkent",), "Tajikistan": ("Dushanbe",),
    "Turkmenistan": ("Ashgabat",), "Russia": ("Moscow",), "China": ("Beijing",),
    "Nicaragua": ("Managua",), "Slovenia": ("Ljubljana", "Maribor"),
}
# Abbreviations that name a country only in capitals ("US", not "us").
CAPITALS_ONLY: dict[str, tuple[str, ...]] = {"United States": ("US",)}


@functools.lru_cache(maxsize=256)
def country_pattern(country: str) -> re.Pattern[str]:
    """Whole words naming ``country``: its name, other words for it (``ALSO_CALLED``), its
    cities (``PLACES``), any case; and its abbreviations in capitals (``CAPITALS_ONLY``)."""
    words = [re.escape(w) for w in (country, *ALSO_CALLED.get(country, ()), *PLACES.get(country, ()))]
    words += [f"(?-i:{re.escape(w)})" for w in CAPITALS_ONLY.get(country, ())]
    return re.compile(r"(?<!\w)(" + "|".join(words) + r")(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Filter:
    """Documents to answer from; an empty field does not restrict. ``countries`` keeps the
    documents about any of them; ``since``/``until`` (inclusive) the documents whose year is
    in the range (documents of no known year are left out by a range)."""

    documents: tuple[str, ...] = ()  # document ids or corpus file names
    publishers: tuple[str, ...] = ()  # the publisher contains one of these (any case)
    countries: tuple[str, ...] = ()
    since: int | None = None
    until: int | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            year = getattr(self, name)
            if year is not None and (isinstance(year, bool) or not isinstance(year, int)
                                     or not 1900 <= year <= 2100):
                raise KzqaError(f"{name} must be a year from 1900 to 2100, not {year!r}")
        if self.since and self.until and self.since > self.until:
            raise KzqaError(f"since ({self.since}) is after until ({self.until})")

    @property
    def empty(self) -> bool:
        return not (self.documents or self.publishers or self.countries or self.since or self.until)

    def allows(self, doc_id: str, file: str, source: Source) -> bool:
        if self.documents and doc_id not in self.documents and file not in self.documents:
            return False
        if self.publishers:
            publisher = (source.publisher or "").casefold()
            if not any(p.casefold() in publisher for p in self.publishers):
                return False
        if self.countries and not set(self.countries) & set(countries_of(source)):
            return False
        year = source.year
        if (self.since or self.until) and year is None:
            return False
        return not ((self.since and year is not None and year < self.since)
                    or (self.until and year is not None and year > self.until))

    def to_dict(self) -> dict[str, Any]:
        return {"documents": list(self.documents), "publishers": list(self.publishers),
                "countries": list(self.countries), "since": self.since, "until": self.until}

    @classmethod
    def of(cls, documents: Iterable[str] = (), publishers: Iterable[str] = (),
           countries: Iterable[str] = (), since: int | None = None, until: int | None = None) -> Filter:
        """A filter from loose values (lists, blank strings left out)."""
        def clean(values: Iterable[str]) -> tuple[str, ...]:
            return tuple(v.strip() for v in values if isinstance(v, str) and v.strip())

        return cls(clean(documents), clean(publishers), clean(countries), since, until)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Filter:
        return cls.of(data.get("documents") or (), data.get("publishers") or (),
                      data.get("countries") or (), data.get("since"), data.get("until"))


def countries_of(source: Source) -> list[str]:
    """The countries a document is about, as its metadata names them."""
    return [c.strip() for c in (source.country or "").split(";") if c.strip()]


def countries_named(question: str, known: Iterable[str]) -> list[str]:
    """The ``known`` countries that ``question`` names (by name or another word for it)."""
    return [country for country in known if country_pattern(country).search(question)]


__all__ = ["ALSO_CALLED", "CAPITALS_ONLY", "PLACES", "Filter", "countries_named", "countries_of", "country_pattern"]
