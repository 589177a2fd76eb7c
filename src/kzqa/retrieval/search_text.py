"""What the model and BM25 are shown of a passage. The quoted text is always the passage
alone; these texts only decide how it is found.

Used by the build (to embed and index passages) and by the query side (the coverage
signal reads the same words BM25 indexed).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from kzqa.citation import section_beyond_title
from kzqa.documents import Passage, Source


def embed_text(passage: Passage, source: Source, with_context: bool) -> str:
    """What the model sees for a passage: title and section ahead of the text (context
    only; the quoted text is the passage alone). Whitespace is collapsed here, and only
    here, because the model does not care about it."""
    text = " ".join(passage.text.split())
    if not with_context:
        return text
    section = section_beyond_title(passage.section, source.title, source.subtitle)
    head = source.full_title + (f" — {section}" if section else "")
    return f"{head}\n{text}"


def embed_text_spans(passage: Passage, source: Source, with_context: bool
                     ) -> tuple[str, list[tuple[int, int]]]:
    """``embed_text`` and where each of the passage's sentences lies in it."""
    text = embed_text(passage, source, with_context)
    body = len(" ".join(passage.text.split()))
    return text, collapsed_spans(passage.text, passage.sentences, len(text) - body)


# The most of a paragraph a window's BM25 text carries: every State Department paragraph whole,
# and a megabyte paragraph in linear time (each of its windows had carried all of it).
PARAGRAPH_CONTEXT = 6_000


def lexical_text(passage: Passage, source: Source, paragraph: str | None = None) -> str:
    """What BM25 indexes for a passage: its title and section words, then the whole
    paragraph it belongs to (a sentence window scores on its paragraph's words; measured
    on SciFact: nDCG@10 0.734 against 0.729 with the window's words only)."""
    section = section_beyond_title(passage.section, source.title, source.subtitle)
    return " ".join(filter(None, (source.full_title, section, paragraph or passage.text)))


def paragraph_texts(passages: list[Passage], text_of: dict[str, str]) -> list[str]:
    """For each passage, the text of its whole paragraph (the span from its first window's
    start to its last window's end) in ``text_of[doc_id]``."""
    spans: dict[tuple[str, int], tuple[int, int]] = {}
    for p in passages:
        s, e = spans.get((p.doc_id, p.paragraph), (p.start, p.end))
        spans[(p.doc_id, p.paragraph)] = (min(s, p.start), max(e, p.end))
    out = []
    for p in passages:
        s, e = spans[(p.doc_id, p.paragraph)]
        if p.part and e - s > PARAGRAPH_CONTEXT:  # a window's neighbourhood, not all of a huge paragraph
            s, e = _around(text_of[p.doc_id], p.start, p.end, s, e)
        out.append(text_of[p.doc_id][s:e] if p.part else p.text)
    return out


def _around(text: str, start: int, end: int, low: int, high: int) -> tuple[int, int]:
    """``PARAGRAPH_CONTEXT`` characters of ``text[low:high]`` centred on ``text[start:end]``,
    widened to whole words."""
    room = max(0, PARAGRAPH_CONTEXT - (end - start)) // 2
    s, e = max(low, start - room), min(high, end + room)
    if s > low and (space := text.find(" ", s, start)) >= 0:
        s = space + 1
    if e < high and (space := text.rfind(" ", end, e)) >= 0:
        e = space
    return s, e


def collapsed_spans(body: str, spans: Sequence[tuple[int, int]], offset: int = 0) -> list[tuple[int, int]]:
    """Where each span of ``body`` lies in ``offset`` characters of anything followed by
    ``" ".join(body.split())``: the same words, with the whitespace between them collapsed."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", body)]
    starts = [s for s, _ in words]
    collapsed, at_ = [], offset
    for s, e in words:
        collapsed.append(at_)
        at_ += e - s + 1

    def place(x: int, is_end: bool) -> int:
        k = bisect.bisect_right(starts, x) - 1
        if k < 0:
            return offset
        s, e = words[k]
        if x <= e:  # inside word k, or just after it
            return collapsed[k] + x - s
        return collapsed[k] + e - s + (0 if is_end else 1)  # in the gap after word k

    return [(place(s, False), place(e, True)) for s, e in spans]
