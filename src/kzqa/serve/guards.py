"""What the server refuses before any route runs.

- ``BodyLimit``: request bodies over a limit, announced or streamed (HTTP 413).
- ``RefuseRoutes``: Gradio's upload, file, proxy and tool routes. kzqa takes no uploads and
  serves no files but its page's own assets; on a public Space those routes were an open
  file host (HTTP 403).
- ``guarded_h11``: uvicorn's HTTP protocol with read deadlines, a connection cap and a head
  limit (HTTP 414 for a URL over 16 KiB, 431 for headers).
  uvicorn times out only idle keep-alive connections, and any byte resets that: a client
  trickling header lines held its connection (and a file descriptor) for ever, and ~20,000
  of them left the server unable to accept anything.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0  # s for a whole request head, from connect or the previous response
BODY_TIMEOUT = 20.0  # s for a whole body once its head is in: 1 MiB needs >= 52 KB/s
MAX_CONNECTIONS = 1000  # open at once, fewer if the file descriptor limit is lower
RESERVED_FDS = 128  # for the index, the model, logs and Gradio's own files
MAX_HEAD_BYTES = 16 * 1024  # h11's limit; a 2,000-character Cyrillic question is 12 KB in a URL
DRAIN_SECONDS = 2.0  # a refused request's remaining bytes are read (and dropped) this long


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``limit`` bytes with HTTP 413, whether the
    size is announced (Content-Length) or streamed (chunked). A streamed body is cut off where
    it passes the limit: the 413 goes out, the application sees a disconnected client, and
    whatever it answers to that is dropped."""

    def __init__(self, app: Any, limit: int):  # ASGI callables, untyped as in Starlette
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = {"error": f"request body over {self.limit // 1024} KiB"}
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _send_json(send, 413, too_large)
            return
        seen, started, refused = 0, False, False

        async def guarded_send(message: dict[str, Any]) -> None:
            nonlocal started
            if refused:
                return  # the 413 is out: the application's own reply is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def counted() -> dict[str, Any]:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message: dict[str, Any] = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started:
                        await _send_json(send, 413, too_large)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, guarded_send)


REFUSED_PATH = re.compile(
    r"/(?:gradio_api/)?(?:(?:file|proxy)=|file/|(?:upload|upload_progress|stream|process_recording"
    r"|vibe-edit|undo-vibe-edit|vibe-code|run-history|runs|monitoring|custom_component|dev)(?:/|$))",
    re.IGNORECASE)


class RefuseRoutes:
    """ASGI middleware: HTTP 403 for Gradio's routes that store or serve files, proxy other
    sites or edit the app (``REFUSED_PATH``), under ``/`` and ``/gradio_api/``. The chat page
    needs none of them: it loads ``/``, ``/assets/``, ``/static/``, ``/theme.css`` and talks
    to ``/gradio_api/queue/`` and ``/gradio_api/heartbeat/`` (recorded from a real browser)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and REFUSED_PATH.match(re.sub("/+", "/", scope["path"])):
            await _send_json(send, 403, {"error": "kzqa takes no uploads and serves no files "
                                         "but its page's own"})
            return
        await self.app(scope, receive, send)


async def _send_json(send: Any, status: int, content: dict[str, str]) -> None:
    """A whole JSON response, then the connection closes (the request body may be unread)."""
    body = json.dumps(content).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def guarded_h11(header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT,
                max_connections: int = MAX_CONNECTIONS) -> type[H11Protocol]:
    """``GuardedH11`` with these limits, for ``uvicorn.Config(http=...)``. The connection cap
    stays ``RESERVED_FDS`` below the process's file descriptor limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY:
        max_connections = max(1, min(max_connections, soft - RESERVED_FDS))
    limits = dict(header_timeout=header_timeout, body_timeout=body_timeout,
                  max_connections=max_connections, _readers={})  # readers: this server's own
    return type("GuardedH11", (GuardedH11,), limits)


_TIMEOUT_408 = (b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
class GuardedH11(H11Protocol):
    """uvicorn's h11 protocol with deadlines: a request head must be complete within
    ``header_timeout`` s of the connection opening (or of the previous response ending), its
    body within ``body_timeout`` s of the head; a connection too slow gets a 408 (or, mid-body,
    is closed: the application sees a disconnect). At most ``max_connections`` are open: a new
    one past that pushes out the one that has been sending its request longest (when every
    open one is being answered instead, it stays: one over, until the next pushes it out)."""

    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT
    max_connections = MAX_CONNECTIONS
    _readers: ClassVar[dict[GuardedH11, None]] = {}  # sending a request now, longest first

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._reading: str | None = None  # "head", "body" or None (request in, or closed)
        self._head = bytearray()  # the request head read so far (up to MAX_HEAD_BYTES + 4)
        self._refused = False
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._push_out_slowest()
        self._watch()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # the refusal is out: the rest of this request is read and dropped
        if self.conn.their_state is h11.IDLE and self._head_too_long(data):
            return
        super().data_received(data)
        self._watch()

    def _head_too_long(self, data: bytes) -> bool:
        """Refuse a request head over ``MAX_HEAD_BYTES`` (h11's own limit, past which uvicorn
        answered a 1 MiB URL by dropping the connection): 414 when its first line, the URL,
        is what is too long, else 431. The answer goes out, then the connection drains."""
        self._head += data[:MAX_HEAD_BYTES + 4 - len(self._head)]
        if b"\r\n\r\n" in self._head or len(self._head) <= MAX_HEAD_BYTES:
            return False
        status, reason = ((414, "URI Too Long") if b"\r\n" not in self._head[:MAX_HEAD_BYTES]
                          else (431, "Request Header Fields Too Large"))
        what = "the request's address (URL)" if status == 414 else "the request's headers"
        body = json.dumps({"error": f"{what} over {MAX_HEAD_BYTES // 1024} KiB"}).encode()
        self.transport.write(f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
                             f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode() + body)
        self._refused = True
        self._stop_clock()
        if self.transport.can_write_eof():
            self.transport.write_eof()  # closing now, with unread input, would reset the connection
        self.loop.call_later(DRAIN_SECONDS, self.transport.close)
        return True

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._stop_clock()  # the transport belongs to another protocol from here on
        super().handle_websocket_upgrade(event)

    def _watch(self) -> None:
        """Start the clock when the connection starts reading a head or a body."""
        state = self.conn.their_state
        reading = "head" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if reading == self._reading:
            return
        self._head.clear()
        self._stop_clock()
        self._reading = reading
        if reading is not None and not self.transport.is_closing():
            self._readers[self] = None  # the newest reader
            limit = self.header_timeout if reading == "head" else self.body_timeout
            self._deadline = self.loop.call_later(limit, self._too_slow)

    def _stop_clock(self) -> None:
        self._readers.pop(self, None)
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._stop_clock()
        if self.transport.is_closing():
            return
        if self._reading == "head" and self.conn.our_state is h11.IDLE:
            self.transport.write(_TIMEOUT_408)  # nothing of a response went out yet
        self.transport.close()

    def _push_out_slowest(self) -> None:
        """Close the connection that has been sending its request longest (in O(1): readers
        are kept in the order they started)."""
        while self._readers:
            oldest = next(iter(self._readers))
            oldest._stop_clock()
            if not oldest.transport.is_closing():
                oldest.transport.close()
                return
