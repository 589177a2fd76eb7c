"""What a reader sees of a web page's element (an lxml tree): the elements never shown, and
an element's visible text, whitespace collapsed as a browser collapses it. Shared by the
text (:mod:`kzqa.ingest.html_text`) and the metadata (:mod:`kzqa.ingest.html_metadata`) of a page."""

from __future__ import annotations

import re
from typing import Any

# Elements that are never text a reader sees in the article.
INVISIBLE = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object",
                        "embed", "canvas", "head", "title", "meta", "link", "map", "video", "audio",
                        "picture", "img"})
WHITESPACE = re.compile(r"[ \t\n\r\f]+")


def visible(el: Any) -> str:
    """The element's text as shown, whitespace collapsed (for measuring, not for storing)."""
    parts: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node.tag, str) and node.tag not in INVISIBLE:
            parts.append(node.text or "")
            for child in node:
                visit(child)
        if node is not el:
            parts.append(node.tail or "")

    visit(el)
    return WHITESPACE.sub(" ", "".join(parts)).strip()


__all__ = ["INVISIBLE", "WHITESPACE", "visible"]
