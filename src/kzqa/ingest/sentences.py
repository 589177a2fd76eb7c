"""Sentences in a paragraph (sentencex), as offsets into the text: the units a long paragraph
is cut into windows of, and a passage's sentence spans. Nothing here changes the text."""

from __future__ import annotations

import re

import sentencex

_ODD_SPACE = re.compile(r"[^\S\n\r\t ]")  # whitespace other than ASCII space, tab, newline


def sentence_spans(text: str, start: int, end: int, language: str = "en") -> list[tuple[int, int]]:
    """Sentence spans inside ``text[start:end]``, trimmed, as offsets into ``text``."""
    piece = text[start:end]
    # sentencex 1.0.32 panics on a multi-byte space before a period ("A\xa0. B"). It is
    # given a copy with such spaces as ASCII spaces, character for character, so its
    # offsets still index the original; nothing is changed in the text that is quoted.
    proxy = _ODD_SPACE.sub(" ", piece)
    bounds = None
    for lang in (language, "en"):  # an unknown language code falls back to English rules
        try:
            bounds = sentencex.get_sentence_boundaries(lang, proxy)
            break
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: BLE001 - a Rust panic is a BaseException
            continue
    if bounds is None:
        return [(start, end)]
    spans = []
    for b in bounds:
        s, e = trim(piece, b["start_index"], b["end_index"])
        if s < e:
            spans.append((start + s, start + e))
    return spans or [(start, end)]


def sentence_windows(text: str, start: int, end: int, max_chars: int, language: str = "en",
                     sentences: list[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into consecutive windows of whole sentences, each at most
    ``max_chars`` long where a sentence allows it (a longer sentence is cut at a space)."""
    if end - start <= max_chars:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    for s, e in sentences or sentence_spans(text, start, end, language):
        while e - s > max_chars:  # one very long sentence: cut at the last space that fits
            cut = text.rfind(" ", s + 1, s + max_chars)
            cut = s + max_chars if cut <= s else cut
            pieces.append(trim(text, s, cut))
            s = trim(text, cut, e)[0]
        pieces.append((s, e))
    windows: list[tuple[int, int]] = []
    for s, e in pieces:
        if windows and e - windows[-1][0] <= max_chars:
            windows[-1] = (windows[-1][0], e)
        else:
            windows.append((s, e))
    return windows


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` without the whitespace at either end of ``text[start:end]``."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


__all__ = ["sentence_spans", "sentence_windows", "trim"]
