"""Downloading a document by its address: a web page or a PDF, as researchers find reports.

``fetch(url)`` returns the bytes exactly as served, the address they came from and the
date they were fetched (the "[accessed DATE]" of a COI citation); it never writes
anything. Everything that can go wrong is a ``FetchError`` with one line saying what:
an address that is not http(s), no answer in time, too many redirects, an HTTP error, a
login page, a file over the size limit, something that is not a web page or a PDF, or an
address inside the network (loopback, private, link-local...: ``kzqa.ingest.addresses``, checked on
the address connected to, for every redirect).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from kzqa.errors import KzqaError

if TYPE_CHECKING:
    import httpx  # imported when a download starts, not with kzqa

MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024  # the corpus limit for a PDF or web page file
CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0  # between two pieces of the answer
TOTAL_SECONDS = 300.0  # for the whole download (a server may trickle within READ_SECONDS)
MAX_REDIRECTS = 5
USER_AGENT = "kzqa (document fetch for a question-answering corpus)"
_LOGIN = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.I)
_LOGIN_PATH = re.compile(r"/(login|signin|sign-in|sso|auth)(/|$|\?)", re.I)


class FetchError(KzqaError):
    """A document could not be downloaded; the message says why, in one line."""


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # the address asked for
    final_url: str  # where the document was served from, after redirects
    data: bytes
    suffix: str  # ".html" or ".pdf", from what the bytes are
    name: str  # a corpus file name made from the address
    accessed: str  # the date fetched, ISO 8601 (UTC)


def is_address(text: str) -> bool:
    """Whether a command-line argument names a document by address rather than a file."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text))


def fetch(url: str, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> Fetched:
    """Download ``url`` (following up to ``MAX_REDIRECTS`` redirects)."""
    import httpx

    from kzqa.ingest.addresses import guarded_transport

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url}: kzqa downloads http:// and https:// addresses only")
    timeout = httpx.Timeout(READ_SECONDS, connect=CONNECT_SECONDS)
    try:
        with httpx.Client(follow_redirects=True, max_redirects=MAX_REDIRECTS, timeout=timeout,
                          headers={"User-Agent": USER_AGENT}, transport=guarded_transport(),
                          trust_env=False) as client, client.stream("GET", url) as response:
            _check_status(url, response)
            data = _read(url, response, max_bytes)
            final = str(response.url)
            content_type = response.headers.get("content-type", "")
    except httpx.TooManyRedirects:
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects") from None
    except httpx.TimeoutException:
        raise FetchError(f"{url}: no answer within {READ_SECONDS:.0f} s") from None
    except httpx.HTTPError as e:  # connection refused, DNS, TLS, protocol errors
        if "not a public address" in str(e):  # kzqa.ingest.addresses refused it, first hop or redirect
            raise FetchError(f"{url}: refused: {e}") from None
        raise FetchError(f"{url}: cannot download ({type(e).__name__}: {e})") from None
    suffix = _kind(url, data, content_type)
    if suffix == ".html" and (_LOGIN.search(data[:200_000]) or _LOGIN_PATH.search(urlsplit(final).path)):
        raise FetchError(f"{url}: the address leads to a login page ({final}), not to the document")
    accessed = dt.datetime.now(dt.UTC).date().isoformat()
    return Fetched(url, final, data, suffix, file_name(url, suffix), accessed)


def _check_status(url: str, response: httpx.Response) -> None:
    if response.status_code >= 400:
        raise FetchError(f"{url}: the server answered HTTP {response.status_code} "
                         f"{response.reason_phrase}".rstrip())


def _read(url: str, response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"{url}: {int(declared):,} bytes; kzqa takes documents up to {max_bytes:,} bytes")
    chunks, size = [], 0
    deadline = time.monotonic() + TOTAL_SECONDS
    for chunk in response.iter_bytes():
        if time.monotonic() > deadline:
            raise FetchError(f"{url}: the download took over {TOTAL_SECONDS:.0f} s")
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(f"{url}: over {max_bytes:,} bytes; kzqa takes documents up to that size")
        chunks.append(chunk)
    return b"".join(chunks)


def _kind(url: str, data: bytes, content_type: str) -> str:
    """".pdf" or ".html" from the bytes themselves (a server's content type can be wrong)."""
    head = data[:1024].lstrip().lower()
    if data.startswith(b"%PDF-"):
        return ".pdf"
    if head.startswith((b"<!doctype html", b"<html", b"<?xml")) or b"<html" in head:
        return ".html"
    shown = content_type.split(";")[0].strip() or "no content type"
    raise FetchError(f"{url}: not a web page or a PDF ({shown}); download it and add the file, "
                     "if kzqa reads its type")


def file_name(url: str, suffix: str) -> str:
    """A corpus file name from an address: its path's words, e.g.
    ``…/reports/2023-country-reports-on-human-rights-practices/kazakhstan/`` →
    ``2023-country-reports-on-human-rights-practices-kazakhstan.html``."""
    parts = urlsplit(url)
    words = [unquote(p) for p in parts.path.split("/") if p]
    if words and words[-1].lower().endswith((".pdf", ".html", ".htm")):
        words[-1] = words[-1].rsplit(".", 1)[0]
    stem = "-".join(words[-2:]) if words else (parts.hostname or "document")
    stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")[:120] or "document"
    return stem + suffix


__all__ = ["FetchError", "Fetched", "fetch", "file_name", "is_address"]
