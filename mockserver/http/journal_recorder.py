"""ASGI middleware that writes every API exchange to its namespace's journal (admin calls are not recorded).

The entry is written before the last byte of the answer goes out, so a client that has its answer can
read its own call in the journal, whatever thread it reads from.
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http import request_facts as _request
from mockserver.http.connection_faults import ABORT_KEY
from mockserver.sim import namespaces
from mockserver.sim.backend import Backend
from mockserver.sim.journal import Body, Entry, Headers, headers_size, kept_headers
from mockserver.sim.namespaces import Namespace

# What a route tells the recorder, in the request's scope state.
_SPACE_KEY = "qolaba_mock.space"
_FAULT_KEY = "qolaba_mock.fault"
_GONE_KEY = "qolaba_mock.client_gone"
_BODY_KEY = "qolaba_mock.body"
_NO_BODY = (b"", 0)


def note_namespace(scope: Scope, space: Namespace, arrived: float) -> None:
    """The namespace a route resolved (possibly new), and the request's arrival on its clock."""
    scope["state"][_SPACE_KEY] = (space, arrived)


def arrival(scope: Scope) -> tuple[Namespace, float] | None:
    """The namespace the request names, if it exists yet, and the time the recorder saw it arrive (None when
    no recorder saw it)."""
    noted: tuple[Namespace, float] | None = scope["state"].get(_SPACE_KEY)
    return noted


def note_request_body(scope: Scope, body: bytes, size: int) -> None:
    """What was read of the request's body (all of it, or as far as a size limit or a disconnect let it go)."""
    scope.setdefault("state", {})[_BODY_KEY] = (body, size)


def note_fault(scope: Scope, fault: str | None) -> None:
    scope["state"][_FAULT_KEY] = fault


def note_client_gone(scope: Scope) -> None:
    """The client left before its answer: the entry records no status."""
    scope["state"][_GONE_KEY] = True


class RecordingMiddleware:
    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend
        self._seq = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self, scope, send)
        try:
            # The request body is not watched on its way in: the one reader of API bodies notes what it read
            # (bodies.read_body), which spares every request a wrapper around `receive`.
            await self.app(scope, receive, exchange.send)
        finally:
            if not exchange.recorded:
                exchange.record()


class _Exchange:
    """One request on its way through: what the journal keeps of it, written once its answer is complete."""

    __slots__ = (
        "_send",
        "keep",
        "middleware",
        "recorded",
        "response_body",
        "response_headers",
        "response_size",
        "scope",
        "status",
    )

    def __init__(self, middleware: RecordingMiddleware, scope: Scope, send: Send) -> None:
        self.middleware, self.scope, self._send = middleware, scope, send
        backend = middleware.backend
        # Looked up, never created: only an authenticated API call creates a namespace (routes.py). A route
        # that resolves the namespace replaces this (note_namespace).
        space = backend.namespaces.find(_request.headers(scope).get(namespaces.HEADER, namespaces.DEFAULT))
        space = space or backend.default
        # Until a route notes the namespace it resolved; the route reads this arrival too.
        scope["state"][_SPACE_KEY] = (space, space.clock.now())
        self.keep = backend.config.journal_body_bytes
        self.response_body = b""
        self.response_size = 0
        # The answer's status and raw headers, once it has started.
        self.status: int | None = None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.recorded = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            chunk = message.get("body", b"")
            self.response_size += len(chunk)
            if len(self.response_body) < self.keep:
                self.response_body += chunk[: self.keep - len(self.response_body)]
            if not message.get("more_body", False) and not self.recorded:
                self.record()
        elif kind == "http.response.start":
            self.status = message["status"]
            self.response_headers = message.get("headers", [])
        await self._send(message)

    def record(self) -> None:
        self.recorded = True
        scope = self.scope
        state, headers = scope["state"], _request.headers(scope)
        space, arrived = state[_SPACE_KEY]
        answered = self.status is not None and state.get(ABORT_KEY) is None and not state.get(_GONE_KEY)
        kept = _kept_response_headers(self.response_headers, headers.get("authorization", ""))
        # An image is summarised by its type and size.
        # A copy of exact length: an answer straight from orjson keeps its spare buffer, kilobytes an entry.
        response_body = b"" if kept.media_type.startswith("image/") else bytes(memoryview(self.response_body))
        read, request_size = state.get(_BODY_KEY, _NO_BODY)
        request_body = read[: self.keep]
        entry = Entry(
            next(self.middleware._seq),
            space.name,
            arrived,
            space.clock.now(),
            scope["method"],
            scope["path"],
            self.status if answered else None,
            state.get(_FAULT_KEY),
            _request.token_id(scope) if "authorization" in headers else None,
            Body(request_body, request_size, _shared(headers.get("content-type", ""))),
            Body(response_body, self.response_size, kept.media_type),
            kept.headers,
        )
        space.journal.record(entry, size=len(request_body) + len(response_body) + kept.size)


class _KeptHeaders(NamedTuple):
    headers: Headers
    media_type: str
    # What they weigh in the journal's byte bound.
    size: int


# Answers repeat a handful of header sets, and journals keep thousands of entries: each distinct set is decoded
# and filtered once for each caller's credentials, and entries share the result (fewer objects held, less work
# per request). The bound keeps a client from growing it; like the configured tokens, it is process memory only.
_KEPT: dict[tuple[tuple[tuple[bytes, bytes], ...], str], _KeptHeaders] = {}
_STRINGS: dict[str, str] = {}
_MAX_SHARED = 1024


def _kept_response_headers(raw: list[tuple[bytes, bytes]], authorization: str) -> _KeptHeaders:
    """The response headers as the journal keeps them (`kept_headers`, the caller's token filtered), with the
    response's media type."""
    key = (tuple(raw), authorization)
    found = _KEPT.get(key)
    if found is None:
        bearer = _bearer(authorization)
        found = _kept(key[0], secrets=(bearer,) if bearer else ())
        if len(_KEPT) >= _MAX_SHARED:
            _KEPT.clear()
        _KEPT[key] = found
    return found


def _kept(raw: tuple[tuple[bytes, bytes], ...], secrets: tuple[str, ...] = ()) -> _KeptHeaders:
    decoded = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
    headers = kept_headers(decoded, secrets=secrets)
    # Starlette writes response header names in lower case.
    media_type = next((value for name, value in headers if name == "content-type"), "")
    return _KeptHeaders(headers, media_type, headers_size(headers))


def _shared(text: str) -> str:
    # One object for each of the few request media types, rather than one per journal entry.
    found = _STRINGS.get(text)
    if found is None:
        if len(_STRINGS) >= _MAX_SHARED:
            _STRINGS.clear()
        found = _STRINGS[text] = text
    return found


def _bearer(authorization: str) -> str:
    # The caller's token, so that an answer echoing it does not put it in the journal.
    return authorization.strip().partition(" ")[2].strip()
