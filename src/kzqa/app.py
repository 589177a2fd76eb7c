"""The web chat, its JSON API and a plain REST route: thin shells over ``QA.ask``.

``build_app(qa)`` returns the Gradio Blocks (chat page, ``/chat`` and ``/search`` API
endpoints); ``make_server(qa)`` mounts it on FastAPI with the REST routes
``GET/POST /api/ask`` and ``GET /api/health``; ``serve()`` runs that with uvicorn.
"""

from __future__ import annotations

import collections
import json
import os
import threading
from typing import Any

from pydantic import BaseModel, Field

from .errors import KzqaError
from .render import answer_markdown, answer_text, literal, safe_url
from .search import MAX_K, MAX_QUESTION_CHARS, QA

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
MAX_BODY_BYTES = 1024 * 1024  # a request body larger than this gets HTTP 413

INTRO = (
    "# kzqa — political freedoms in Kazakhstan, in the sources’ own words\n"
    "Ask a question. kzqa answers **only with passages quoted verbatim** from the documents "
    "listed on the right, each with its source. It never writes text of its own: no "
    "summary, no paraphrase. The sentences that answer best are in **bold** inside the "
    "unchanged quote. When the documents do not answer a question, it says so."
)


def _sources_markdown(qa: QA) -> str:
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


def build_app(qa: QA) -> Any:
    """The Gradio Blocks of the chat page and its API endpoints (not launched)."""
    import gradio as gr

    def respond(question: str, chat: list[Any] | None, asked: list[str], k: float
                ) -> tuple[str, list[dict[str, str]], list[str]]:
        """One turn of the chat page: show the question literally, then the answer."""
        chat = _plain_messages(chat)
        question = question or ""
        try:
            answer = qa.ask(question, k=int(k), history=list(asked))
            reply = answer_markdown(answer, EXAMPLES)
            asked = [*asked, answer.question]
        except KzqaError as e:
            reply = f"**{literal(str(e)[:1].upper() + str(e)[1:])}**"
        chat = [*chat, {"role": "user", "content": literal(question)},
                {"role": "assistant", "content": reply}]
        return "", chat, asked

    def chat(message: str, k: int = DEFAULT_K) -> str:
        """Answer one question: the passages verbatim with their citations, as plain text,
        or a statement that the documents do not cover it."""
        try:
            return answer_text(qa.ask(message, k=k))
        except KzqaError as e:
            raise gr.Error(str(e)) from None

    def search(question: str, k: int = DEFAULT_K, history: list[str] | None = None) -> dict[str, Any]:
        """Answer one question as JSON: {question, abstained, passages: [{text, score,
        title, section, paragraph, start, end, url, publisher, author, date, citation,
        ...}], notes}. `history` holds the earlier questions, oldest first."""
        try:
            return qa.ask(question, k=k, history=history or []).to_dict()
        except KzqaError as e:
            raise gr.Error(str(e)) from None

    with gr.Blocks(title="kzqa — political freedoms in Kazakhstan") as demo:
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown(INTRO)
                chatbot = gr.Chatbot(
                    label="kzqa", height=520, sanitize_html=True, render_markdown=True,
                    latex_delimiters=[], allow_tags=False, buttons=[], elem_id="kzqa-chat",
                    placeholder="Quotes from the documents appear here, each with its source.",
                )
                with gr.Row():
                    box = gr.Textbox(show_label=False, scale=8, max_lines=4, autofocus=True,
                                     max_length=MAX_QUESTION_CHARS, elem_id="kzqa-question",
                                     placeholder="Ask about elections, protest, the press, NGOs…")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="kzqa-ask",
                                     elem_classes=["submit-button"])
                examples = gr.Dataset(components=[box], samples=[[q] for q in EXAMPLES],
                                      label="Example questions (click to ask)", type="values",
                                      elem_id="kzqa-examples")
            with gr.Column(scale=1):
                k = gr.Slider(1, 10, value=DEFAULT_K, step=1, label="Passages per answer",
                              elem_id="kzqa-k")
                gr.Markdown(_sources_markdown(qa))
                clear = gr.Button("New conversation", variant="secondary")
        asked = gr.State([])
        turn: dict[str, Any] = dict(fn=respond, inputs=[box, chatbot, asked, k],
                                    outputs=[box, chatbot, asked], api_visibility="private",
                                    concurrency_limit=CONCURRENCY)
        box.submit(**turn)
        send.click(**turn)
        examples.click(lambda sample, c, a, kk: respond(sample[0], c, a, kk),
                       inputs=[examples, chatbot, asked, k], outputs=[box, chatbot, asked],
                       api_visibility="private", concurrency_limit=CONCURRENCY)
        clear.click(lambda: ("", [], []), outputs=[box, chatbot, asked], api_visibility="private")
        chatbot.clear(lambda: [], outputs=[asked], api_visibility="private")  # its trash button
        gr.api(chat, api_name="chat", concurrency_limit=CONCURRENCY)  # type: ignore[attr-defined]
        gr.api(search, api_name="search", concurrency_limit=CONCURRENCY)  # type: ignore[attr-defined]
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    return demo


class AskRequest(BaseModel):
    """Body of POST /api/ask."""

    question: str = Field(max_length=MAX_QUESTION_CHARS * 2)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    history: list[str] = Field(default_factory=list, max_length=50)


def make_server(qa: QA) -> Any:
    """FastAPI app: REST routes under /api, the chat page and Gradio API at /."""
    import gradio as gr
    from fastapi import FastAPI, Query
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    app = FastAPI(title="kzqa", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    slots = threading.BoundedSemaphore(CONCURRENCY + QUEUE_SIZE)  # working + waiting
    working = FairSemaphore(CONCURRENCY)  # first come, first served: no request waits behind later ones

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Any, exc: RequestValidationError) -> JSONResponse:
        """422 with what is wrong, never echoing the input (which may not even encode)."""
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ())[1:]) or "body"
            problems.append(f"{where}: {e.get('msg', 'invalid')}")
        text = "invalid request: " + "; ".join(problems)
        return JSONResponse({"error": text.encode("utf-8", "replace").decode("utf-8")}, status_code=422)

    def answer(question: str, k: int, history: list[str]) -> JSONResponse:
        if not slots.acquire(blocking=False):
            return JSONResponse({"error": f"busy: {CONCURRENCY + QUEUE_SIZE} requests are already "
                                 "being answered or waiting; try again shortly"}, status_code=503)
        try:
            with working:
                return JSONResponse(qa.ask(question, k=k, history=history).to_dict())
        except KzqaError as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        finally:
            slots.release()

    @app.get("/api/ask", summary="Answer a question with verbatim, cited passages")
    def ask_get(question: str = Query(max_length=MAX_QUESTION_CHARS * 2),
                k: int = Query(DEFAULT_K, ge=1, le=MAX_K)) -> JSONResponse:
        return answer(question, k, [])

    @app.post("/api/ask", summary="Answer a question, with the earlier questions as history")
    def ask_post(body: AskRequest) -> JSONResponse:
        return answer(body.question, body.k, body.history)

    @app.get("/api/health", summary="Liveness and what is loaded")
    def health() -> dict[str, Any]:
        return {"status": "ok", "documents": len(qa.documents), "passages": len(qa.passages)}

    return gr.mount_gradio_app(app, build_app(qa), path="/", footer_links=[], theme=theme())


class FairSemaphore:
    """A semaphore that hands a freed slot to the request that has waited longest.
    ``threading.Semaphore`` lets a newcomer take it first, which under load leaves some
    requests waiting for many turns (the tail of the latency)."""

    def __init__(self, value: int):
        self._lock = threading.Lock()
        self._free = value
        self._waiting: collections.deque[threading.Lock] = collections.deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by __exit__ of the request before: the slot is handed over

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1


def theme() -> Any:
    """Gradio's default look with system fonts: the page loads nothing from other sites."""
    import gradio as gr

    return gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "SFMono-Regular", "monospace"])


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with HTTP 413, whether the
    size is announced (Content-Length) or streamed (chunked)."""

    def __init__(self, app: Any, limit: int):  # ASGI callables, untyped as in Starlette
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(send: Any, limit: int) -> None:
    body = json.dumps({"error": f"request body over {limit // 1024} KiB"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def serve(host: str = "127.0.0.1", port: int = 7860, index: str | None = None) -> None:
    """Load the index and the model, then serve until interrupted."""
    import uvicorn
    from threadpoolctl import threadpool_limits

    from . import load

    # One BLAS thread per answer: up to CONCURRENCY answers already share the cores, and
    # BLAS threads of their own only contend (measured, bench/load.py: 20 clients p95
    # ~460 -> ~310 ms; one client alone 14 -> 19 ms median).
    threadpool_limits(limits=1, user_api="blas")
    qa = load(index).warm_up()
    app = make_server(qa)
    print(f"kzqa: serving {len(qa.passages)} passages from {len(qa.documents)} documents "
          f"at http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _plain_messages(chat: list[Any] | None) -> list[dict[str, str]]:
    """Chat history as {role, content: str}; Gradio 6 may hand content back as parts."""
    out = []
    for message in chat or []:
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        out.append({"role": message.get("role", "assistant"), "content": str(content or "")})
    return out
