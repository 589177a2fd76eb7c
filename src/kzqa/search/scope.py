"""The passages a question may be answered from: the user's filters, and the country the
question is about (``kzqa.search.filters``), as a boolean mask over the index's rows.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from kzqa.search.filters import Filter, countries_named, countries_of
from kzqa.storage.store import StoredIndex


class Scope:
    """Per-document facts of an index, spread over its passages, and the masks they give."""

    def __init__(self, store: StoredIndex):
        self.documents = list(store.documents.values())
        index = {d.doc_id: i for i, d in enumerate(self.documents)}
        self.doc_rows = np.array([index[p.doc_id] for p in store.passages], dtype=np.int64)
        years = np.array([d.source.year if d.source.year is not None else np.nan
                          for d in self.documents], dtype=np.float64)
        self.row_years = years[self.doc_rows] if len(self.doc_rows) else np.zeros(0)
        # the series a document belongs to (its publisher and country): the editions of one report
        named: dict[tuple[str, str], int] = {}
        series = np.array([named.setdefault(((d.source.publisher or "").casefold(),
                                             (d.source.country or "").casefold()), len(named))
                           for d in self.documents], dtype=np.int64)
        self.row_series = series[self.doc_rows] if len(self.doc_rows) else np.zeros(0, np.int64)
        self.countries = sorted({c for d in self.documents for c in countries_of(d.source)})
        self.home = store.settings.country
        self._masks: dict[tuple[Filter, bool], np.ndarray | None] = {}

    def allowed(self, question: str, filters: Filter | None) -> np.ndarray | None:
        """The rows to answer ``question`` from (None: every row)."""
        chosen = filters or Filter()
        home = False
        if not (chosen.countries or chosen.documents or chosen.publishers):  # chosen by the user
            named = countries_named(question, self.countries)
            if named and named != [self.home]:
                chosen = replace(chosen, countries=tuple(named))
            else:  # no country named, or only the bot's own: its documents and those stating none
                home = bool(self.home)
        key = (chosen, home)
        if key not in self._masks:
            if len(self._masks) > 256:  # filters come from users: keep the cache bounded
                self._masks.clear()
            self._masks[key] = self._mask(chosen, home)
        return self._masks[key]

    def _mask(self, chosen: Filter, home: bool) -> np.ndarray | None:
        keep = np.array([chosen.allows(d.doc_id, d.file, d.source) and
                         (not home or _about_home(countries_of(d.source), self.home))
                         for d in self.documents], dtype=bool)
        return None if keep.all() else keep[self.doc_rows]


def _about_home(countries: list[str], home: str | None) -> bool:
    """A document about the bot's country, or stating none."""
    return not countries or home in countries


__all__ = ["Scope"]
