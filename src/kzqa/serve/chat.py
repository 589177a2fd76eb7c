"""The web chat and its Gradio API: thin shells over ``QA.ask``.

``build_app(qa)`` returns the Gradio Blocks (chat page, ``/chat`` and ``/search`` API
endpoints); ``server.make_server(qa)`` mounts it on FastAPI with the REST routes and
``server.serve()`` runs that with uvicorn.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from typing import Any

from kzqa.citation import DEFAULT_STYLE, STYLES, check_style
from kzqa.errors import KzqaError
from kzqa.evidence import collection
from kzqa.evidence.render import answer_markdown, answer_text, literal, safe_url
from kzqa.search.filters import Filter, countries_of
from kzqa.search.live import LiveQA
from kzqa.search.qa import QA
from kzqa.search.question import MAX_QUESTION_CHARS
from kzqa.serve.page import COLLECTION_HTML

Answering = QA | LiveQA
Status = Callable[[], str]  # a line of Markdown: which documents answer now
STATUS_SECONDS = 3.0  # how often the page looks again while the library is being built

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no outbound calls

EXAMPLES = (
    "Can people protest in Kazakhstan?",
    "Are elections in Kazakhstan free and fair?",
    "Is the press free in Kazakhstan?",
    "How are NGOs treated?",
    "What did Trump say about Kazakhstan?",
)
DEFAULT_K = 3
CONCURRENCY = 4  # answers computed at once; the model itself runs one batch at a time
QUEUE_SIZE = 64  # requests waiting beyond that are refused ("queue full" / HTTP 503)

INTRO = (
    "# kzqa — political freedoms in Kazakhstan, in the sources’ own words\n"
    "Ask a question. kzqa answers **only with passages quoted verbatim** from the documents "
    "listed under *Source documents*, each with its source. It never writes text of its own: "
    "no summary, no paraphrase. The sentences that answer best are in **bold** inside the "
    "unchanged quote. When the documents do not answer a question, it says so. "
    "Under each quote: copy it with its citation, or pin it to your collection and export "
    "the collection as Markdown, CSV or a bibliography."
)
STYLE_CHOICES = [("Plain", "plain"), ("COI (with the date accessed)", "coi"),
                 ("CSL-JSON (reference managers)", "csl-json")]
assert [v for _, v in STYLE_CHOICES] == list(STYLES)


def _sources_markdown(qa: Answering) -> str:
    lines = ["### Source documents"]
    for record in qa.documents.values():
        s = record.source
        title = literal(s.full_title)
        title = f"[{title}]({safe_url(s.url)})" if s.url else title
        bits = [b for b in (s.author, s.publisher, s.date or "n.d.") if b]
        if record.pages:
            bits.append(f"PDF, {record.pages} page{'s' if record.pages != 1 else ''}")
        elif record.extractor:
            bits.append("web page")
        lines.append(f"- {title} — {literal(', '.join(bits))}")
    return "\n".join(lines)


def _filter(documents: list[str] | None, publishers: list[str] | None, countries: list[str] | None,
            since: float | None, until: float | None) -> Filter | None:
    """The chat's and the API's filter values as a ``Filter`` (None: no filter)."""
    chosen = Filter.of(documents or (), publishers or (), countries or (),
                       int(since) if since else None, int(until) if until else None)
    return None if chosen.empty else chosen


def _filter_choices(qa: Answering) -> tuple[list[tuple[str, str]], list[str], list[str], list[int]]:
    """What the filters offer: the documents, publishers, countries and years of the index."""
    records = list(qa.documents.values())
    titled = [(f"{r.source.full_title} ({r.source.year or 'n.d.'})", r.doc_id) for r in records]
    publishers = sorted({r.source.publisher for r in records if r.source.publisher})
    countries = sorted({c for r in records for c in countries_of(r.source)})
    years = sorted({r.source.year for r in records if r.source.year is not None})
    return titled, publishers, countries, years


def _filter_controls(qa: Answering) -> list[Any]:
    """Which documents to answer from: documents, publishers, countries, a range of years."""
    import gradio as gr

    titled, publishers, countries, years = _filter_choices(qa)
    with gr.Accordion("Which documents to answer from", open=False, elem_id="kzqa-filters"):
        gr.Markdown("Empty: every document about Kazakhstan (or the country a question names).")
        controls = [
            gr.Dropdown(titled, multiselect=True, label="Documents", elem_id="kzqa-documents"),
            gr.Dropdown(publishers, multiselect=True, label="Publishers", elem_id="kzqa-publishers"),
            gr.Dropdown(countries, multiselect=True, label="Countries", elem_id="kzqa-countries"),
            gr.Dropdown(years, value=None, label="From year", elem_id="kzqa-since"),
            gr.Dropdown(years, value=None, label="To year", elem_id="kzqa-until"),
        ]
    return controls


class Handlers:
    """What the page and its API endpoints do with a question: thin calls to ``ask``."""

    def __init__(self, qa: Answering):
        self.qa = qa

    def respond(self, question: str, chat: list[Any] | None, asked: list[str], k: float,
                style: str | None, closest: bool | None,
                *chosen: Any) -> tuple[str, list[dict[str, str]], list[str]]:
        """One turn of the chat page: show the question literally, then the answer."""
        chat = _plain_messages(chat)
        question = question or ""
        try:
            answer = self.qa.ask(question, k=int(k), history=list(asked), filters=_filter(*chosen))
            reply = answer_markdown(answer, EXAMPLES, check_style(style), bool(closest))
            asked = [*asked, answer.question]
        except KzqaError as e:
            reply = f"**{literal(str(e)[:1].upper() + str(e)[1:])}**"
        chat = [*chat, {"role": "user", "content": literal(question)},
                {"role": "assistant", "content": reply}]
        return "", chat, asked

    def chat(self, message: str, k: int = DEFAULT_K, style: str = DEFAULT_STYLE) -> str:
        """Answer one question: the passages verbatim with their citations (`style`: plain,
        coi or csl-json), as plain text, or a statement that the documents do not cover it."""
        import gradio as gr

        try:
            return answer_text(self.qa.ask(message, k=k), check_style(style))
        except KzqaError as e:
            raise gr.Error(str(e), print_exception=False) from None

    def search(self, question: str, k: int = DEFAULT_K, history: list[str] | None = None,
               documents: list[str] | None = None, publishers: list[str] | None = None,
               countries: list[str] | None = None, since: int | None = None,
               until: int | None = None, style: str = DEFAULT_STYLE) -> dict[str, Any]:
        """Answer one question as JSON: {question, abstained, strength, passages: [{text,
        score, title, section, paragraph, start, end, url, publisher, author, date,
        citation, reference, also_in, ...}], closest, notes}. `history` holds the earlier
        questions, oldest first; `documents`, `publishers`, `countries`, `since`, `until`
        choose the documents to answer from (default: those about Kazakhstan, or the country
        the question names); `style` is the citation style (plain, coi, csl-json)."""
        import gradio as gr

        try:
            chosen = _filter(documents, publishers, countries, since, until)
            answer = self.qa.ask(question, k=k, history=history or [], filters=chosen)
            return answer.to_dict(check_style(style))
        except KzqaError as e:
            raise gr.Error(str(e), print_exception=False) from None

    def export(self, items: list[dict[str, str]], format: str = "markdown",
               style: str = DEFAULT_STYLE) -> str:
        """Export quotes as Markdown (grouped by question), CSV or a bibliography. `items`:
        [{"question": ..., "passage_id": ...}] (passage ids from /search answers; each
        passage is looked up in the index). `format`: markdown, csv or bibliography;
        `style`: plain, coi or csl-json."""
        import gradio as gr

        try:
            wanted = [(str(i["question"]), str(i["passage_id"])) for i in items]
        except (KeyError, TypeError):
            raise gr.Error("each item needs a question and a passage_id", print_exception=False) from None
        try:
            found = collection.from_index(self.qa.documents, self.qa.passage, wanted)
            return collection.export(found, format, style)
        except KzqaError as e:
            raise gr.Error(str(e), print_exception=False) from None


def _page(qa: Answering, status: Status | None) -> dict[str, Any]:
    """The page's components, laid out: the chat on the left, settings and sources right."""
    import gradio as gr

    parts: dict[str, Any] = {}
    with gr.Row():
        with gr.Column(scale=3):
            gr.Markdown(INTRO)
            if status is not None:
                parts["status"] = gr.Markdown(status(), elem_id="kzqa-library-status")
            parts["chatbot"] = gr.Chatbot(
                label="kzqa", height=None, autoscroll=False, sanitize_html=True, render_markdown=True,
                latex_delimiters=[], allow_tags=False, buttons=[], elem_id="kzqa-chat",
                placeholder="Quotes from the documents appear here, each with its source.",
            )
            with gr.Row():
                parts["box"] = gr.Textbox(show_label=False, scale=8, max_lines=4, autofocus=True,
                                          max_length=MAX_QUESTION_CHARS, elem_id="kzqa-question",
                                          placeholder="Ask about elections, protest, the press, NGOs…")
                parts["send"] = gr.Button("Ask", variant="primary", scale=1, elem_id="kzqa-ask",
                                          elem_classes=["submit-button"])
                parts["clear"] = gr.Button("New conversation", variant="secondary", scale=1,
                                           elem_id="kzqa-new")
            parts["examples"] = gr.Dataset(components=[parts["box"]], samples=[[q] for q in EXAMPLES],
                                           label="Example questions (click to ask)", type="values",
                                           elem_id="kzqa-examples")
        with gr.Column(scale=1):
            parts["k"] = gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Passages per answer",
                                   elem_id="kzqa-k")
            parts["style"] = gr.Radio(STYLE_CHOICES, value=DEFAULT_STYLE, label="Citation style",
                                      elem_id="kzqa-style")
            parts["closest"] = gr.Checkbox(False, label="When there is no answer, show the closest "
                                           "passages (marked weak)", elem_id="kzqa-closest")
            gr.HTML(COLLECTION_HTML, elem_id="kzqa-collection-panel")
            parts["chosen"] = _filter_controls(qa)
            parts["sources"] = gr.Markdown(_sources_markdown(qa), elem_id="kzqa-sources")
    return parts


def _follow_status(p: dict[str, Any], qa: Answering, status: Status) -> None:
    """Every few seconds, the page's line on which documents answer, and, when they change
    (the library takes over from the seed articles), its sources and filters."""
    import gradio as gr

    timer = gr.Timer(STATUS_SECONDS)
    shown = gr.State(len(qa.documents))

    def tick(count: int) -> tuple[Any, ...]:
        documents = len(qa.documents)
        if documents == count:
            return (status(), gr.skip(), *[gr.skip()] * 5, count)
        titled, publishers, countries, years = _filter_choices(qa)
        choices = [gr.update(choices=c) for c in (titled, publishers, countries, years, years)]
        return (status(), _sources_markdown(qa), *choices, documents)

    timer.tick(tick, inputs=[shown], outputs=[p["status"], p["sources"], *p["chosen"], shown],
               api_visibility="private", show_progress="hidden")


def build_app(qa: Answering, status: Status | None = None) -> Any:
    """The Gradio Blocks of the chat page and its API endpoints (not launched). ``status``:
    a line on which documents answer (``kzqa.search.live.DefaultLibrary.status``), shown and
    followed on the page."""
    import gradio as gr

    on = Handlers(qa)
    with gr.Blocks(title="kzqa — political freedoms in Kazakhstan") as demo:
        p = _page(qa, status)
        if status is not None:
            _follow_status(p, qa, status)
        box, chatbot, k, chosen = p["box"], p["chatbot"], p["k"], p["chosen"]
        how = [p["style"], p["closest"]]
        asked = gr.State([])
        turn: dict[str, Any] = dict(fn=on.respond, inputs=[box, chatbot, asked, k, *how, *chosen],
                                    outputs=[box, chatbot, asked], api_visibility="private",
                                    concurrency_limit=CONCURRENCY)
        box.submit(**turn)
        p["send"].click(**turn)
        p["examples"].click(lambda sample, c, a, kk, *f: on.respond(sample[0], c, a, kk, *f),
                            inputs=[p["examples"], chatbot, asked, k, *how, *chosen],
                            outputs=[box, chatbot, asked], api_visibility="private",
                            concurrency_limit=CONCURRENCY)
        p["clear"].click(lambda: ("", [], []), outputs=[box, chatbot, asked], api_visibility="private")
        chatbot.clear(lambda: [], outputs=[asked], api_visibility="private")  # its trash button
        for name in ("chat", "search", "export"):
            gr.api(_typed(getattr(on, name)), api_name=name,  # type: ignore[attr-defined]
                   concurrency_limit=CONCURRENCY)
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    return demo


def _typed(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with its type hints as types, not strings (this module's annotations are
    postponed): Gradio reads them to describe the endpoint (``view_api``, the API page)."""
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    call.__signature__ = inspect.signature(fn, eval_str=True)  # type: ignore[attr-defined]
    return call


def theme() -> Any:
    """Gradio's default look with system fonts: the page loads nothing from other sites."""
    import gradio as gr

    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "SFMono-Regular", "monospace"])


def _plain_messages(chat: list[Any] | None) -> list[dict[str, str]]:
    """Chat history as {role, content: str}; Gradio 6 may hand content back as parts."""
    out = []
    for message in chat or []:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        out.append({"role": message.get("role", "assistant"), "content": str(content or "")})
    return out
