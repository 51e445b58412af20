"""A journal kept on the client's side: each exchange a test's client made, as the client saw it.

Where no fake of ours answers (the real API, under `--qolaba-target=api`), nobody else can keep a journal,
so the transports here record one as the requests go out and the answers come back. Its entries are the
fake's `Entry`, so the verdicts (mockserver/testing/verdicts.py) read them unchanged, with these differences:

- `started_at` and `finished_at` are the client's monotonic clock, in seconds (no simulated time);
- `fault` is always None: no fault of ours can fire in an API we do not run;
- `token_id` is the same keyed stand-in the fake uses, never the token;
- `status` is None when no answer came (a transport error).

Hooks let a caller act on each exchange: `sending` may refuse a request before any byte leaves (it raises),
`received` sees the whole answer.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import httpx

from mockserver.config.settings import Config
from mockserver.sim.journal import Body, Entry, Journal, kept_headers
from mockserver.sim.namespaces import DEFAULT
from mockserver.wire.auth import token_id

# A client-side journal is bounded as the fake's is by default (mockserver/config/settings.py).
_DEFAULTS = Config()
MAX_ENTRIES = _DEFAULTS.journal_entries
MAX_BYTES = _DEFAULTS.journal_bytes
BODY_BYTES = _DEFAULTS.journal_body_bytes


@dataclass(frozen=True)
class Answer:
    """A whole answer as the client received it: decoded body, headers, status."""

    status_code: int
    headers: httpx.Headers
    content: bytes


Sending = Callable[[httpx.Request], None]
Received = Callable[[httpx.Request, Answer, float], None]


@dataclass
class ClientJournal:
    """The journal, and the hooks run on each exchange; one per test.

    Usage:
        recorded = ClientJournal()
        client = httpx.AsyncClient(transport=RecordingAsyncTransport(httpx.AsyncHTTPTransport(), recorded))
        ...
        recorded.journal.calls_to("/getImage").call_count
    """

    journal: Journal = field(default_factory=lambda: Journal(MAX_ENTRIES, MAX_BYTES))
    sending: list[Sending] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def before_send(self, request: httpx.Request) -> None:
        for hook in self.sending:
            hook(request)

    def record(self, request: httpx.Request, answer: Answer | None, started: float) -> None:
        finished = time.monotonic()
        authorization = request.headers.get("authorization")
        secret = (authorization or "").partition(" ")[2]
        response = Body()
        headers: tuple[tuple[str, str], ...] = ()
        if answer is not None:
            media_type = answer.headers.get("content-type", "")
            kept = b"" if media_type.startswith("image/") else answer.content[:BODY_BYTES]
            response = Body(kept, len(answer.content), media_type)
            headers = kept_headers(answer.headers.multi_items(), [secret])
        content = request.content
        with self._lock:
            entry = Entry(
                next(self._seq), DEFAULT, started, finished, request.method, request.url.path,
                None if answer is None else answer.status_code, None,
                None if authorization is None else token_id({"authorization": authorization}),
                Body(content[:BODY_BYTES], len(content), request.headers.get("content-type", "")),
                response, headers,
            )  # fmt: skip
            self.journal.record(entry)
        if answer is not None:
            for hook in self.received:
                hook(request, answer, finished - started)

    def clear(self) -> None:
        self.journal.clear()


class RecordingAsyncTransport(httpx.AsyncBaseTransport):
    """Sends through `inner` and records each exchange in `recorded` (after its `sending` hooks let it go)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, recorded: ClientJournal) -> None:
        self.inner, self.recorded = inner, recorded

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.recorded.before_send(request)
        started = time.monotonic()
        try:
            response = await self.inner.handle_async_request(request)
            # The stream itself, not `aiter_raw()`: a transport may hand back an answer already read.
            raw = b"".join([chunk async for chunk in cast(httpx.AsyncByteStream, response.stream)])
            await response.aclose()
        except httpx.TransportError:
            self.recorded.record(request, None, started)
            raise
        return _recorded(self.recorded, request, response, raw, started)

    async def aclose(self) -> None:
        await self.inner.aclose()


class RecordingTransport(httpx.BaseTransport):
    """The sync twin of `RecordingAsyncTransport`, for `httpx.Client`."""

    def __init__(self, inner: httpx.BaseTransport, recorded: ClientJournal) -> None:
        self.inner, self.recorded = inner, recorded

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.recorded.before_send(request)
        started = time.monotonic()
        try:
            response = self.inner.handle_request(request)
            raw = b"".join(cast(httpx.SyncByteStream, response.stream))
            response.close()
        except httpx.TransportError:
            self.recorded.record(request, None, started)
            raise
        return _recorded(self.recorded, request, response, raw, started)

    def close(self) -> None:
        self.inner.close()


def _recorded(
    recorded: ClientJournal, request: httpx.Request, response: httpx.Response, raw: bytes, started: float
) -> httpx.Response:
    # The client gets the bytes as they came (still encoded: it decodes them itself); the journal the decoded body.
    decoded = httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(raw))
    decoded.read()
    recorded.record(request, Answer(response.status_code, response.headers, decoded.content), started)
    return httpx.Response(
        response.status_code,
        headers=response.headers,
        stream=httpx.ByteStream(raw),
        extensions={k: v for k, v in response.extensions.items() if k in ("http_version", "reason_phrase")},
    )
