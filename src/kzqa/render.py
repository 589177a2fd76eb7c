"""Showing an ``Answer`` to people: plain text (CLI, chat API) and Markdown (the chat page).

Pure functions, no I/O. In Markdown every character that comes from a question or a
document is written as an HTML entity when it could mean anything to Markdown or HTML, so
it is displayed literally: no tag, link, emphasis or code span that the source didn't have.
Citations are formatted from their fields (``kzqa.citation.Citation``): the plain style is
``citation_text``, the Markdown one ``citation_markdown``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from .citation import Citation, citation_text
from .results import HIDDEN_CHARACTERS, Answer, Hit

__all__ = [
    "NO_ANSWER", "answer_markdown", "answer_text", "citation_markdown", "highlighted", "literal",
    "safe_url",
]

NO_ANSWER = "The documents do not cover this question; kzqa has no passage that answers it."

# ASCII punctuation that Markdown, GFM autolinks, LaTeX or HTML could read as syntax.
_SYNTAX = set("\\`*_{}[]()<>#+-.!|~$:&\"'=^@%/;")


def literal(text: str) -> str:
    """``text`` as Markdown that renders as exactly ``text``: syntax characters become
    numeric entities, line breaks become <br>, and runs of spaces keep their width.
    Bidirectional controls and zero-width characters are shown, not obeyed: '⟨U+202E⟩'."""
    out = []
    prev_space = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\r" and text[i + 1 : i + 2] == "\n":
            i += 1
            continue
        if ch in "\r\n":
            out.append("<br>")
        elif ch == " ":
            out.append("&nbsp;" if prev_space else " ")
        elif ch == "\t":
            out.append("&#9;")
        elif ch in HIDDEN_CHARACTERS:
            out.append(f"⟨U+{ord(ch):04X}⟩")
        elif ch in _SYNTAX or ord(ch) < 32 or ch in "\u2028\u2029":
            out.append(f"&#{ord(ch)};")
        else:
            out.append(ch)
        prev_space = ch == " "
        i += 1
    return "".join(out)


_WHITESPACE = re.compile(r"\s+")  # str.split's whitespace: line breaks, tabs, NBSP, other spaces


def flowing(text: str) -> str:
    """``literal`` of ``text`` with every run of whitespace shown as one ordinary space: how
    the chat shows a quote, so a PDF paragraph's layout line breaks and justified spacing
    read (and copy) as running text. Display only: the quote, its offsets and every other
    output keep the text exactly."""
    return literal(_WHITESPACE.sub(" ", text))


def answer_text(answer: Answer) -> str:
    """Plain text, quotes verbatim (the CLI and the /chat API)."""
    lines = [f"Q: {answer.question}"]
    if answer.abstained:
        return "\n".join(lines + ["", NO_ANSWER])
    lines += [f"({note})" for note in answer.notes]
    scores = [hit.score for hit in answer.passages]
    if any(later > earlier for earlier, later in zip(scores, scores[1:])):  # diversity (MMR) moved one up
        lines.append("(Passages after the first are ordered to bring in different content, not by score "
                     "alone; each score is that passage's own match to the question.)")
    for rank, hit in enumerate(answer.passages, start=1):
        lines += ["", f"[{rank}] score {hit.score:.3f}", hit.text,
                  f"— {citation_text(hit.cite())}"]
        if hit.also_in:
            lines.append(f"  {also_in_label(hit)}:")
            lines += [f"  — {echo.citation}" for echo in hit.also_in]
    return "\n".join(lines)


def also_in_label(hit: Hit) -> str:
    """"Also in the 2020 and 2019 editions" (documents that say which year they report on),
    or "Also in 2 other documents": where else the same text, or nearly, stands."""
    years = [e.covers for e in hit.also_in]
    if all(years):
        named = [str(y) for y in years]
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        return f"Also in the {listed} edition{'s' if len(named) > 1 else ''} (same text, or nearly)"
    n = len(hit.also_in)
    return f"Also in {n} other document{'s' if n > 1 else ''} (same text, or nearly)"


def answer_markdown(answer: Answer, examples: list[str] | tuple[str, ...] = ()) -> str:
    """The chat reply: the best passage as a block quote with its citation, the further
    passages folded away below, or a plain statement that the documents do not cover it."""
    if answer.abstained:
        text = f"**{NO_ANSWER}**"
        if examples:
            text += "\n\nQuestions the documents do answer, for example:\n\n"
            text += "\n".join(f"- {literal(q)}" for q in examples)
        return text
    parts = [f"*{literal(note)}*\n" for note in answer.notes]
    best, *more = answer.passages
    parts.append(_quote(best))
    if more:
        parts.append(f"<details><summary>{len(more)} more supporting "
                     f"passage{'s' if len(more) > 1 else ''}</summary>\n")
        parts += [_quote(hit) for hit in more]
        parts.append("</details>")
    return "\n".join(parts)


def citation_markdown(citation: Citation) -> str:
    """The plain style's words as literal Markdown, the title in bold and the URL as the
    one link (labelled with its host). A URL that is not http(s) is shown as text, never
    linked."""
    kinds, texts = zip(*citation.elements(), strict=True)
    at = kinds.index("title")
    before = "".join(text + ", " for text in texts[:at])
    after = "".join(", " + text for text in texts[at + 1:]) + "."
    # literal() per run of plain text, so that runs of spaces keep their width
    markdown = f"{literal(before)}**{literal(texts[at])}**{literal(after)}"
    url = citation.url
    if url and _linkable(url):
        markdown += f" [{literal(_host(url))} ↗]({safe_url(url)})"
    elif url:
        markdown += " " + literal(url)
    return markdown


def _linkable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _host(url: str) -> str:
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def highlighted(text: str, spans: tuple[tuple[int, int], ...] | list[tuple[int, int]],
                show: Callable[[str], str] = literal) -> str:
    """``show(text)`` with the ``spans`` (offsets into ``text``) in bold: the characters
    shown are ``text``'s; only emphasis is added around the answering sentences."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if start < pos or not 0 <= start < end <= len(text):
            continue
        out += [show(text[pos:start]), "<strong>", show(text[start:end]), "</strong>"]
        pos = end
    out.append(show(text[pos:]))
    return "".join(out)


def _quote(hit: Hit) -> str:
    spans = hit.highlights if len(hit.highlights) and hit.highlights != ((0, len(hit.text)),) else ()
    text = f"> {highlighted(hit.text, spans, flowing)}\n\n— {citation_markdown(hit.cite())}\n"
    if hit.also_in:
        text += (f"\n<details><summary>{literal(also_in_label(hit))}</summary>\n\n"
                 + "\n".join(f"- {literal(e.citation)}" for e in hit.also_in) + "\n\n</details>\n")
    return text


def safe_url(url: str) -> str:
    """``url`` as a Markdown link target that cannot break out of the link syntax (the
    caller checks that it is http(s): corpus metadata is, ``citation_markdown`` does)."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")
