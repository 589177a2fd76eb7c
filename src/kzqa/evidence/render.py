"""Showing an ``Answer`` to people: plain text (CLI, chat API) and Markdown (the chat page).

Pure functions, no I/O. In Markdown every character that comes from a question or a
document is written as an HTML entity when it could mean anything to Markdown or HTML, so
it is displayed literally: no tag, link, emphasis or code span that the source didn't have.
Citations are formatted from their fields (``kzqa.citation.Citation``): the plain style is
``citation_text``, the Markdown one ``citation_markdown``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from urllib.parse import quote, urlsplit

from kzqa.citation import DEFAULT_STYLE, Citation, cite_as, full_title
from kzqa.results import HIDDEN_CHARACTERS, STRENGTHS, Answer, Hit

__all__ = [
    "CLOSEST", "NO_ANSWER", "answer_markdown", "answer_text", "citation_markdown", "copy_text",
    "highlighted", "literal", "pin_data", "plain_quote", "safe_url",
]

NO_ANSWER = "The documents do not cover this question; kzqa has no passage that answers it."
CLOSEST = ("Closest passages (weak: not an answer; the documents may not answer this question, "
           "check before you use them)")

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


def plain_quote(text: str) -> str:
    """A quote as the chat shows and copies it: every run of whitespace (a PDF's layout line
    breaks, justified spacing, non-breaking spaces) as one ordinary space."""
    return _WHITESPACE.sub(" ", text).strip()


def copy_text(hit: Hit, style: str = DEFAULT_STYLE) -> str:
    """What the chat's "Copy quote + citation" button copies: the quote (``plain_quote``)
    in quotation marks, then its citation in ``style``, full URL included."""
    return f"“{plain_quote(hit.text)}”\n— {hit.citation_in(style)}"


def answer_text(answer: Answer, style: str = DEFAULT_STYLE, closest: bool = False) -> str:
    """Plain text, quotes verbatim (the CLI and the /chat API), citations in ``style``.
    ``closest``: after an abstention, show the nearest passages, marked as weak."""
    lines = [f"Q: {answer.question}"]
    if answer.abstained:
        lines += ["", NO_ANSWER]
        if closest and answer.closest:
            lines += ["", CLOSEST + ":"] + _hits_text(answer.closest, style)
        return "\n".join(lines)
    if answer.strength:
        lines.append(f"({STRENGTHS[answer.strength]})")
    lines += [f"({note})" for note in answer.notes]
    scores = [hit.score for hit in answer.passages]
    if any(later > earlier for earlier, later in zip(scores, scores[1:])):  # diversity (MMR) moved one up
        lines.append("(Passages after the first are ordered to bring in different content, not by score "
                     "alone; each score is that passage's own match to the question.)")
    return "\n".join(lines + _hits_text(answer.passages, style))


def older_label(hit: Hit, first: Hit) -> str | None:
    """"In the 2019 edition (older than the 2023 edition above):" for a passage from an
    earlier edition of the report the first passage comes from: what it says may since
    have changed (None for the first passage and for other documents)."""
    if hit is first or not (hit.covers and first.covers) or hit.publisher != first.publisher:
        return None
    mine, theirs = hit.covers[-4:], first.covers[-4:]
    return f"In the {mine} edition (older than the {theirs} edition above):" if mine < theirs else None


def _hits_text(hits: tuple[Hit, ...], style: str) -> list[str]:
    lines = []
    for rank, hit in enumerate(hits, start=1):
        older = older_label(hit, hits[0])
        lines += ["", f"[{rank}] score {hit.score:.3f}" + (f" {older}" if older else ""), hit.text,
                  f"— {hit.citation_in(style)}"]
        if hit.also_in:
            lines.append(f"  {also_in_label(hit)}:")
            lines += [f"  — {echo.citation(style)}" for echo in hit.also_in]
    return lines


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


def answer_markdown(answer: Answer, examples: list[str] | tuple[str, ...] = (),
                    style: str = DEFAULT_STYLE, closest: bool = False) -> str:
    """The chat reply: how strong the match is, the best passage as a block quote with its
    citation (in ``style``) and its buttons (copy, pin), the further passages folded away
    below; or a plain statement that the documents do not cover it, with the closest
    passages (``closest``), marked as weak."""
    if answer.abstained:
        text = f"**{NO_ANSWER}**"
        if closest and answer.closest:
            text += (f"\n\n<details open><summary>{literal(CLOSEST)}</summary>\n\n"
                     + "\n".join(_quote(h, answer.question, style, n, weak=True)
                                 for n, h in enumerate(answer.closest, start=1))
                     + "\n</details>")
        if examples:
            text += "\n\nQuestions the documents do answer, for example:\n\n"
            text += "\n".join(f"- {literal(q)}" for q in examples)
        return text
    parts = [f"*{literal(note)}*\n" for note in answer.notes]
    if answer.strength:
        parts.insert(0, f'<span class="kzqa-strength kzqa-{answer.strength}">'
                        f"{literal(STRENGTHS[answer.strength])}</span>\n")
    best, *more = answer.passages
    parts.append(_quote(best, answer.question, style, 1))
    if more:
        parts.append(f"<details><summary>{len(more)} more supporting "
                     f"passage{'s' if len(more) > 1 else ''}</summary>\n")
        parts += [(f"*{literal(older)}*\n\n" if (older := older_label(hit, best)) else "")
                  + _quote(hit, answer.question, style, n) for n, hit in enumerate(more, start=2)]
        parts.append("</details>")
    return "\n".join(parts)


def citation_markdown(citation: Citation, style: str = DEFAULT_STYLE) -> str:
    """A citation in ``style`` as literal Markdown; the URL, in full, is its one link. The
    plain style shows its title in bold. A URL that is not http(s) is shown as text, never
    linked."""
    url = citation.url
    if style != DEFAULT_STYLE:
        text = cite_as(citation, style)
        if not url or not _linkable(url) or url not in text:
            return literal(text)
        before, _, after = text.partition(url)
        return f"{literal(before)}{_link(url)}{literal(after)}"
    kinds, texts = zip(*citation.elements(), strict=True)
    at = kinds.index("title")
    before = "".join(text + ", " for text in texts[:at])
    after = "".join(", " + text for text in texts[at + 1:]) + "."
    # literal() per run of plain text, so that runs of spaces keep their width
    markdown = f"{literal(before)}**{literal(texts[at])}**{literal(after)}"
    if url and _linkable(url):
        markdown += f" {_link(url)}"
    elif url:
        markdown += " " + literal(url)
    return markdown


def _link(url: str) -> str:
    """The URL shown in full (what a reader copies is the address, not its host)."""
    return f"[{literal(url)}]({safe_url(url)})"


def _linkable(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


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


def pin_data(question: str, hit: Hit) -> dict[str, str]:
    """What a pin button keeps of a quote: the question and the passage id (the export looks
    the passage up again in the index), and a preview and source to list it by."""
    preview = plain_quote(hit.text)
    preview = preview if len(preview) <= 90 else preview[:89].rstrip() + "…"
    return {"question": question, "id": hit.id, "preview": preview,
            "source": f"{full_title(hit.title, hit.subtitle)} ({hit.date or 'n.d.'})"}


def _data(text: str) -> str:
    """``text`` in characters that neither HTML nor Markdown read as anything (base64)."""
    return base64.b64encode(text.encode()).decode()


def _quote(hit: Hit, question: str, style: str, number: int, weak: bool = False) -> str:
    spans = hit.highlights if len(hit.highlights) and hit.highlights != ((0, len(hit.text)),) else ()
    label = "weak passage" if weak else "quote"
    # The chat's sanitizer keeps a button's class, value and title (not data-* or aria-*):
    # the class names the action, the value carries its text (base64), the title says it.
    tools = (f'<span class="kzqa-tools">'
             f'<button type="button" class="kzqa-copy" value="{_data(copy_text(hit, style))}" '
             f'title="Copy {label} {number} with its citation">Copy quote + citation</button> '
             f'<button type="button" class="kzqa-copy" value="{_data(hit.citation_in(style))}" '
             f'title="Copy the citation of {label} {number}">Copy citation</button>'
             + ("" if weak else
                f' <button type="button" class="kzqa-pin" value="{_data(json.dumps(pin_data(question, hit)))}" '
                f'title="Pin quote {number} to your collection">Pin</button>')
             + "</span>")
    text = (f"> {highlighted(hit.text, spans, flowing)}\n\n"
            f"— {citation_markdown(hit.cite(), style)}\n\n{tools}\n")
    if hit.also_in:
        text += (f"\n<details><summary>{literal(also_in_label(hit))}</summary>\n\n"
                 + "\n".join(f"- {citation_markdown(e.reference, style)}" for e in hit.also_in)
                 + "\n\n</details>\n")
    return text


def safe_url(url: str) -> str:
    """``url`` as a Markdown link target that cannot break out of the link syntax (the
    caller checks that it is http(s): corpus metadata is, ``citation_markdown`` does)."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~-._")
