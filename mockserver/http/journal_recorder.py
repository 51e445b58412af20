"""The one recording point: every API exchange passes here, and here alone its journal entry is built.

Each request becomes a `Call` as it arrives. An API call (`POST` to an API path) goes straight to its
endpoint (operation.py), which answers it and notes on the call what happened on the way: the namespace
and arrival it used, the fault that fired, what was read of the body, whether the client left. Anything
else goes to the router, and is recorded as it arrived. Admin calls are not recorded.

The entry is written before the last byte of the answer goes out, so a client that has its answer can
read its own call in the journal, whatever thread it reads from.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.http import request_facts
from mockserver.http.operation import FAULT_HEADER, LATENCY_HEADER, Call, Operation
from mockserver.sim.backend import Backend
from mockserver.sim.journal import Body, Entry, Headers, headers_size, kept_headers


class RecordingMiddleware:
    """The innermost middleware: calls an API endpoint straight, or the router, and journals the exchange.

    The router would reach the same endpoint, through a route match and an exception layer that an API
    endpoint never needs (it raises no HTTPException); a method or path it does not serve still gets the
    router's 404 or 405.
    """

    def __init__(self, app: ASGIApp, backend: Backend, endpoints: Mapping[str, Operation]) -> None:
        self.app, self.backend, self.endpoints = app, backend, endpoints
        self._seq = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        if path.startswith("/__admin"):
            await self.app(scope, receive, send)
            return
        endpoint = self.endpoints.get(path) if scope["method"] == "POST" else None
        # The request as it arrived: an endpoint notes on it what happened as it answers.
        call = Call(scope, receive, self.backend)
        exchange = _Exchange(self, call, send)
        try:
            if endpoint is None:
                await self.app(scope, receive, exchange.send)
            else:
                response = await endpoint.answer(call)
                await response(scope, receive, exchange.send)
        finally:
            if not exchange.recorded:
                exchange.record()


def _route_path(scope: Scope) -> str:
    """The path the router matches: below the root path the app is served under (Starlette's rule)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path[len(root_path) : len(root_path) + 1] in ("/", ""):
        return path[len(root_path) :]
    return path


class _Exchange:
    """One request on its way through: what the journal keeps of it, written once its answer is complete."""

    __slots__ = (
        "_send",
        "call",
        "keep",
        "middleware",
        "recorded",
        "response_body",
        "response_headers",
        "response_size",
        "status",
    )

    def __init__(self, middleware: RecordingMiddleware, call: Call, send: Send) -> None:
        self.middleware, self.call, self._send = middleware, call, send
        self.keep = middleware.backend.config.journal_body_bytes
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
        call = self.call
        scope, headers, space = call.scope, call.headers, call.space
        # A connection fault that sends nothing leaves no status; a client that left read none.
        answered = self.status is not None and not call.client_left
        kept = _kept_response_headers(self.response_headers, headers.get("authorization", ""))
        # An image is summarised by its type and size.
        # A copy of exact length: an answer straight from orjson keeps its spare buffer, kilobytes an entry.
        response_body = b"" if kept.media_type.startswith("image/") else bytes(memoryview(self.response_body))
        request_body = call.body[: self.keep]
        # The X-Mock-* headers that steered this request, as sent (a header is bounded by the server's read limits).
        steering = tuple((name, headers[name]) for name in _STEERING if name in headers)
        entry = Entry(
            next(self.middleware._seq),
            space.name,
            call.arrived,
            space.clock.now(),
            scope["method"],
            scope["path"],
            self.status if answered else None,
            call.fault,
            request_facts.token_id(scope) if "authorization" in headers else None,
            Body(request_body, call.body_size, _shared(headers.get("content-type", ""))),
            Body(response_body, self.response_size, kept.media_type),
            kept.headers,
            # The profile that answered: it can be switched while the server runs (PATCH /__admin/config).
            self.middleware.backend.config.fidelity,
            steering,
            time.time(),
        )
        steered = sum(len(name) + len(value) for name, value in steering)
        space.journal.record(entry, size=len(request_body) + len(response_body) + kept.size + steered)


_STEERING = (FAULT_HEADER, LATENCY_HEADER)


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
