"""The HTTP server: the chat page (``chat.build_app``) mounted on FastAPI with the REST routes
``GET/HEAD/POST /api/ask``, ``GET/HEAD /api/health`` and ``/api/openapi.json``, behind the
guards of ``guards.py``; ``serve()`` runs it with uvicorn.

REST answers are bounded before any thread is taken: ``AnswerSlots`` counts requests on the
event loop, refuses past ``working + waiting`` at once (503), and computes at most
``working`` answers at a time in threads of its own. The health check is a coroutine: it
never waits behind answers.
"""

from __future__ import annotations

import asyncio
import gc
import os
from collections.abc import Callable
from typing import Any, Literal, TypeVar, get_args

import anyio
import anyio.to_thread
import uvicorn
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from kzqa.errors import KzqaError
from kzqa.evidence import collection
from kzqa.search.filters import Filter
from kzqa.search.live import DefaultLibrary, LiveQA
from kzqa.search.qa import QA
from kzqa.search.question import MAX_K, MAX_QUESTION_CHARS
from kzqa.serve import page
from kzqa.serve.chat import CONCURRENCY, DEFAULT_K, QUEUE_SIZE, Status, build_app, theme
from kzqa.serve.guards import BodyLimit, RefuseRoutes, guarded_h11

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no outbound calls

MAX_BODY_BYTES = 1024 * 1024  # a request body larger than this gets HTTP 413
MAX_HISTORY = 50  # earlier questions a POST /api/ask may carry
MAX_FILTER_VALUES = 50  # documents, publishers or countries one filter may name
MAX_EXPORT_ITEMS = 1000  # quotes one POST /api/export may name
Style = Literal["plain", "coi", "csl-json"]  # kzqa.citation.STYLES
Format = Literal["markdown", "csv", "bibliography"]  # kzqa.evidence.collection.FORMATS
T = TypeVar("T")


class FilterRequest(BaseModel):
    """Which documents to answer from (``kzqa.Filter``); every field optional."""

    model_config = ConfigDict(strict=True, extra="forbid")

    documents: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    publishers: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    countries: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    since: int | None = Field(None, ge=1900, le=2100)
    until: int | None = Field(None, ge=1900, le=2100)


class ExportItem(BaseModel):
    """A quote to export: the question it answered and the passage's id (from an answer)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    question: str = Field(max_length=MAX_QUESTION_CHARS * 2)
    passage_id: str = Field(max_length=1000)


class ExportRequest(BaseModel):
    """Body of POST /api/export: quotes by passage id, looked up in the index."""

    model_config = ConfigDict(strict=True, extra="forbid")

    items: list[ExportItem] = Field(max_length=MAX_EXPORT_ITEMS)
    format: Format = "markdown"
    style: Style = "plain"


class AskRequest(BaseModel):
    """Body of POST /api/ask. Strict: `"k": "3"` or `"k": true` is an error, not a 3 or a 1;
    an unknown field (`"filter"`, `"hisotry"`) is an error, not ignored."""

    model_config = ConfigDict(strict=True, extra="forbid")

    question: str = Field(max_length=MAX_QUESTION_CHARS * 2)
    k: int = Field(DEFAULT_K, ge=1, le=MAX_K)
    history: list[str] = Field(default_factory=list, max_length=MAX_HISTORY)
    filters: FilterRequest | None = None
    style: Style = "plain"  # the citation style of every passage's "citation"


class AnswerSlots:
    """At most ``working`` answers computed at once, each in a thread of this pool, and at
    most ``waiting`` more in line, served first come, first served; past that, ``run``
    returns None at once. Counted on the event loop: a refused request takes no thread."""

    def __init__(self, working: int, waiting: int):
        self.limit = working + waiting
        self.taken = 0
        self._threads = anyio.CapacityLimiter(max(1, working))  # FIFO: no newcomer jumps the line

    @property
    def full(self) -> bool:
        return self.taken >= self.limit

    async def run(self, fn: Callable[[], T]) -> T | None:
        if self.full:
            return None
        self.taken += 1
        try:
            return await anyio.to_thread.run_sync(fn, limiter=self._threads)
        finally:
            self.taken -= 1


def busy(slots: AnswerSlots) -> Response:
    return JSONResponse({"error": f"busy: {slots.limit} requests are already being answered or "
                         "waiting; try again shortly"}, status_code=503,
                        headers={"Retry-After": "1", "Connection": "close"})


class RefuseWhenFull:
    """ASGI middleware: /api/ask answered 503 at once while every slot is taken, before its
    body is read or validated: a flood of refused requests costs the event loop (and the
    health check waiting in it) as little as it can. (The route checks again.)"""

    def __init__(self, app: Any, slots: AnswerSlots):
        self.app, self.slots = app, slots

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/ask" and self.slots.full:
            await busy(self.slots)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def make_server(qa: QA | LiveQA, working: int = CONCURRENCY, waiting: int = QUEUE_SIZE,
                status: Status | None = None) -> FastAPI:
    """FastAPI app: REST routes under /api, the chat page and Gradio API at /. ``status``: a
    line on which documents answer, shown on the page and in /api/health."""
    import gradio as gr

    slots = AnswerSlots(working, waiting)
    app = FastAPI(title="kzqa", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(RefuseWhenFull, slots=slots)
    app.add_middleware(RefuseRoutes)  # added last: runs first
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(HTTPException)(http_error)

    async def answer(question: str, k: int, history: list[str], chosen: FilterRequest | None,
                     style: str) -> Response:
        def work() -> Response:  # in a worker thread: the answer and its JSON encoding
            try:
                filters = Filter.from_dict(chosen.model_dump()) if chosen else None
                found = qa.ask(question, k=k, history=history, filters=filters)
                return JSONResponse(found.to_dict(style))
            except KzqaError as e:
                return JSONResponse({"error": str(e)}, status_code=400)

        return await slots.run(work) or busy(slots)

    @app.get("/api/ask", summary="Answer a question with verbatim, cited passages")
    async def ask_get(question: str = Query(max_length=MAX_QUESTION_CHARS * 2),
                      k: int = Query(DEFAULT_K, ge=1, le=MAX_K),
                      document: list[str] = Query([], max_length=MAX_FILTER_VALUES),
                      publisher: list[str] = Query([], max_length=MAX_FILTER_VALUES),
                      country: list[str] = Query([], max_length=MAX_FILTER_VALUES),
                      since: int | None = Query(None, ge=1900, le=2100),
                      until: int | None = Query(None, ge=1900, le=2100),
                      style: Style = Query("plain")) -> Response:
        chosen = FilterRequest(documents=document, publishers=publisher, countries=country,
                               since=since, until=until)
        return await answer(question, k, [], chosen, style)

    @app.post("/api/ask", summary="Answer a question, with the earlier questions as history")
    async def ask_post(body: AskRequest) -> Response:
        return await answer(body.question, body.k, body.history, body.filters, body.style)

    @app.post("/api/export", summary="Export quotes (by passage id) as Markdown, CSV or a bibliography")
    async def export(body: ExportRequest) -> Response:
        def work() -> Response:  # in a worker thread, as answers are: the event loop stays free
            try:
                items = collection.from_index(qa.documents, qa.passage,
                                              [(i.question, i.passage_id) for i in body.items])
                text = collection.export(items, body.format, body.style)
            except KzqaError as e:
                return JSONResponse({"error": str(e)}, status_code=400)
            name, media = collection.file_type(body.format, body.style)
            return Response(text, media_type=f"{media}; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})

        return await slots.run(work) or busy(slots)

    @app.get("/api/health", summary="Liveness and what is loaded")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "documents": len(qa.documents), "passages": len(qa.passages),
                **({"answering": status()} if status is not None else {})}

    for path, endpoint in (("/api/ask", ask_get), ("/api/health", health)):  # HEAD: as GET, no body
        app.add_api_route(path, endpoint, methods=["HEAD"], include_in_schema=False)

    app.add_api_route("/api/{rest:path}", elsewhere, include_in_schema=False,
                      methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"])
    mounted: FastAPI = gr.mount_gradio_app(app, build_app(qa, status), path="/", footer_links=[], theme=theme(),
                                           css=page.CSS, head=page.HEAD)
    return mounted


async def elsewhere(request: Request) -> Response:
    """Under /api, a known path with another method is 405 (with Allow), anything else 404
    (not the chat page, which the mount at / would answer)."""
    path = request.url.path
    allowed = sorted({m for r in request.app.routes if getattr(r, "path", None) == path
                      for m in getattr(r, "methods", None) or ()})
    if allowed:
        return JSONResponse({"error": "method not allowed here"}, status_code=405,
                            headers={"Allow": ", ".join(allowed)})
    return JSONResponse({"error": "no such route"}, status_code=404)


async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
    """422 with what is wrong, in words: the field (or the body) and what was expected,
    never echoing the input (which may not even encode)."""
    model = BODIES.get(request.url.path)
    text = "invalid request: " + "; ".join(_problem(e, model) for e in exc.errors())
    return JSONResponse({"error": text.encode("utf-8", "replace").decode("utf-8")}, status_code=422)


EXAMPLE = 'a JSON object such as {"question": "..."}'
EXPECTED = {  # pydantic's error types -> what was expected, for people
    "string_type": "a string", "int_type": "a whole number", "int_parsing": "a whole number",
    "int_from_float": "a whole number", "list_type": "a list", "model_type": "a JSON object",
    "dict_type": "a JSON object", "model_attributes_type": "a JSON object",
}
LIMITS = {  # and the other errors people can make
    "greater_than_equal": "must be at least {ge}", "less_than_equal": "must be at most {le}",
    "string_too_long": "too long: at most {max_length} characters",
    "too_long": "too many entries: at most {max_length}",
    "string_unicode": "not valid text (a \\ud800-\\udfff escape without its pair)",
}
BODIES: dict[str, type[BaseModel]] = {"/api/ask": AskRequest, "/api/export": ExportRequest}


def _model_at(model: type[BaseModel], path: list[Any]) -> type[BaseModel]:
    """The request model (nested in ``model``) that ``path`` leads into: for
    ``["items", 0, "quote"]`` in an export, ``ExportItem``."""
    for step in path:
        if isinstance(step, int) or step not in model.model_fields:
            continue
        for inner in (annotation := model.model_fields[step].annotation, *get_args(annotation)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                model = inner
    return model


def _problem(error: Any, model: type[BaseModel] | None = None) -> str:
    """One pydantic error as ``where: what is wrong`` (``history[0]``, ``filters.since``)."""
    kind, ctx = error.get("type"), error.get("ctx") or {}
    source, *path = error.get("loc") or ("body",)
    if kind == "json_invalid":  # FastAPI puts where the JSON broke in the location
        reason = str(ctx.get("error") or "malformed")
        return f"body: not valid JSON ({reason[:1].lower()}{reason[1:]} {_after(path[0] if path else 0)})"
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "body"
    if kind == "missing":
        return f"{where}: empty; send {EXAMPLE}" if where == "body" else f"{where}: missing; it is required"
    if kind in EXPECTED:
        expected = EXAMPLE if where == "body" else EXPECTED[kind]
        if isinstance(error.get("input"), bytes):  # FastAPI reads JSON only when told it is JSON
            return f"body: expected {expected}, sent with Content-Type: application/json"
        got = f", got {_json_kind(error.get('input'))}" if source == "body" else ""
        return f"{where}: expected {expected}{got}"
    if kind == "extra_forbidden" and model is not None:
        known = _model_at(model, path[:-1]).model_fields
        return f"{where}: not a known field (known: {', '.join(known)})"
    try:
        return f"{where}: " + LIMITS[kind].format(**ctx)
    except (KeyError, IndexError):
        return f"{where}: {error.get('msg', 'invalid')}"


def _after(position: object) -> str:
    n = position if isinstance(position, int) else 0
    return ("at the start" if n == 0 else "after the first character" if n == 1
            else f"after the first {n} characters")


def _json_kind(value: object) -> str:
    """The JSON type of ``value``, in words (not the value: it is never echoed)."""
    kinds: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "true or false"), ((int, float), "a number"), (str, "a string"), (list, "a list"),
        (dict, "an object")]
    return next((name for t, name in kinds if isinstance(value, t)), "null")


async def http_error(request: Request, exc: HTTPException) -> Response:
    """FastAPI's own HTTP errors as ``{"error": ...}``. A body it could not parse (it says
    400 with the parser's exception as the cause: JSON nested too deeply, text that is not
    UTF-8) is invalid input like any other: 422."""
    cause = exc.__cause__
    if exc.status_code == 400 and cause is not None:
        why = (f"not UTF-8 text (byte {cause.start + 1} is not UTF-8)" if isinstance(cause, UnicodeDecodeError)
               else "JSON nested too deeply" if isinstance(cause, RecursionError)
               else "not JSON that can be read")
        return JSONResponse({"error": f"invalid request: body: {why}"}, status_code=422)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code,
                        headers=exc.headers)


def uvicorn_config(app: Any, host: str = "127.0.0.1", port: int = 7860,
                   protocol: type[asyncio.Protocol] | None = None) -> uvicorn.Config:
    """How kzqa runs under uvicorn: the guarded HTTP protocol (``guards.guarded_h11()``
    unless ``protocol`` is given), idle keep-alive connections closed after 5 s, no access
    log."""
    return uvicorn.Config(app, host=host, port=port, http=protocol or guarded_h11(),
                          timeout_keep_alive=5, log_level="warning", access_log=False)


def serve(host: str = "127.0.0.1", port: int = 7860, index: str | None = None) -> None:
    """Load the index and the model, then serve until interrupted. With no ``index``: the
    Kazakhstan library, or the seed articles while it is built (``kzqa.search.live.DefaultLibrary``)."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread per answer: up to CONCURRENCY answers already share the cores, and
    # BLAS threads of their own only contend (measured, bench/load.py: 20 clients p95
    # ~460 -> ~310 ms; one client alone 14 -> 19 ms median).
    threadpool_limits(limits=1, user_api="blas")
    status: Status | None = None
    if index is None:
        default = DefaultLibrary()
        qa, status = default.live.warm_up(), default.status
    else:
        from kzqa.indexing.library import resolve

        qa = LiveQA(resolve(index)).warm_up()  # follows rebuilds
    misfit = qa.qa.settings.abstention.misfit(len(qa.passages))
    if misfit:
        print(f"kzqa: warning: {misfit}", flush=True)
    app = make_server(qa, status=status)
    # What is loaded now (the model, the index, Gradio: ~200,000 objects) lives as long as
    # the server: out of the collector's sight, a full collection takes ~0 instead of
    # 130-190 ms, a pause every request would otherwise wait out under load.
    gc.freeze()
    print(f"kzqa: serving {len(qa.passages)} passages from {len(qa.documents)} documents "
          f"at http://{host}:{port}/ (Ctrl-C stops)", flush=True)
    uvicorn.Server(uvicorn_config(app, host, port)).run()
