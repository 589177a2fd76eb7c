"""What the chat page adds to Gradio's in the browser: its style sheet, one script and the
collection panel, read from this folder (``kzqa.css``, ``kzqa.js``, ``collection.html``).

The script does three things, all in the reader's browser and none of them writing text:

- **Copy.** Each quote's buttons carry in their ``value``, base64-encoded, the text they
  copy (made by ``render.copy_text`` and ``Hit.citation_in``); a click puts it on the
  clipboard. (The chat's sanitizer keeps a button's class, value and title, nothing else.)
- **Pin.** A pin button carries the question and the passage id; the pinned list is kept in
  the browser (``localStorage``: it survives a reload) and shown in the "Your collection"
  panel.
- **Export.** The panel's buttons send the pinned (question, passage id) pairs to
  ``POST /api/export``, which looks every passage up in the index, and save the file it
  returns (Markdown, CSV, or a bibliography in the chosen citation style).

The style sheet lets the conversation grow with the page (no inner scroll box) and keeps
the buttons visible and keyboard-reachable.
"""

from __future__ import annotations

from importlib.resources import files

__all__ = ["COLLECTION_HTML", "CSS", "HEAD"]

_PAGE = files("kzqa.serve.page")
COLLECTION_HTML = (_PAGE / "collection.html").read_text(encoding="utf-8")
CSS = (_PAGE / "kzqa.css").read_text(encoding="utf-8")
HEAD = f"<script>{(_PAGE / 'kzqa.js').read_text(encoding='utf-8')}</script>"
