"""ASGI middleware that writes every API exchange to its namespace's journal (admin calls are not recorded).

The entry is written before the last byte of the answer goes out, so a client that has its answer can
read its own call in the journal, whatever thread it reads from.
"""

from __future__ import annotations

import itertools

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import _request, namespaces
from mockserver.backend import Backend
from mockserver.connection_faults import ABORT_KEY
from mockserver.journal import Body, Entry, Headers, kept_headers
from mockserver.namespaces import Namespace

# What a route tells the recorder, in the request's scope state.
_SPACE_KEY = "qolaba_mock.space"
_FAULT_KEY = "qolaba_mock.fault"
_GONE_KEY = "qolaba_mock.client_gone"


def note_namespace(scope: Scope, space: Namespace, arrived: float) -> None:
    """The namespace a route resolved (possibly new), and the request's arrival on its clock."""
    scope["state"][_SPACE_KEY] = (space, arrived)


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
        exchange = _Exchange(self, scope, receive, send)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        finally:
            if not exchange.recorded:
                exchange.record()


class _Exchange:
    """One request on its way through: what the journal keeps of it, written once its answer is complete."""

    __slots__ = (
        "_receive",
        "_send",
        "backend",
        "headers",
        "keep",
        "keep_response",
        "known",
        "middleware",
        "recorded",
        "request_body",
        "request_size",
        "response_body",
        "response_headers",
        "response_size",
        "scope",
        "started_at",
        "status",
    )

    def __init__(self, middleware: RecordingMiddleware, scope: Scope, receive: Receive, send: Send) -> None:
        self.middleware, self.scope, self._receive, self._send = middleware, scope, receive, send
        scope.setdefault("state", {})
        self.headers = _request.headers(scope)
        backend = self.backend = middleware.backend
        # Looked up, never created: only an authenticated API call creates a namespace (routes.py).
        self.known = backend.namespaces.find(self.headers.get(namespaces.HEADER, namespaces.DEFAULT))
        self.started_at = (self.known or backend.default).clock.now()
        self.keep = self.keep_response = backend.config.journal_body_bytes
        self.request_body, self.response_body = bytearray(), bytearray()
        self.request_size = self.response_size = 0
        # The answer's status and raw headers, once it has started.
        self.status: int | None = None
        self.response_headers: list[tuple[bytes, bytes]] = []
        self.recorded = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self.request_size += len(chunk)
            if len(self.request_body) < self.keep:
                self.request_body += chunk[: self.keep - len(self.request_body)]
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_headers = message.get("headers", [])
            if _content_type(self.response_headers).startswith("image/"):
                self.keep_response = 0  # an image is summarised by its type and size
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.response_size += len(chunk)
            if len(self.response_body) < self.keep_response:
                self.response_body += chunk[: self.keep_response - len(self.response_body)]
            if not message.get("more_body", False) and not self.recorded:
                self.record()
        await self._send(message)

    def record(self) -> None:
        self.recorded = True
        scope, state, headers = self.scope, self.scope["state"], self.headers
        space, arrived = state.get(_SPACE_KEY, (self.known or self.backend.default, self.started_at))
        answered = self.status is not None and state.get(ABORT_KEY) is None and not state.get(_GONE_KEY)
        response_headers, media_type = _kept_response_headers(self.response_headers, _bearer(headers))
        space.journal.record(
            Entry(
                next(self.middleware._seq),
                space.name,
                arrived,
                space.clock.now(),
                scope["method"],
                scope["path"],
                self.status if answered else None,
                state.get(_FAULT_KEY),
                _request.token_id(scope) if "authorization" in headers else None,
                Body(bytes(self.request_body), self.request_size, _shared(headers.get("content-type", ""))),
                Body(bytes(self.response_body), self.response_size, media_type),
                response_headers,
            )
        )


def _content_type(raw: list[tuple[bytes, bytes]]) -> str:
    # Starlette writes response header names in lower case.
    return next((value.decode("latin-1") for name, value in raw if name == b"content-type"), "")


# Answers repeat a handful of header sets, and journals keep thousands of entries: each distinct set is decoded
# and filtered once, and entries share the result (fewer objects held, less work per request). Only sets that
# cannot hold the caller's token are shared, and the bound keeps a client from growing it.
_KEPT: dict[tuple[tuple[bytes, bytes], ...], tuple[Headers, str]] = {}
_STRINGS: dict[str, str] = {}
_MAX_SHARED = 1024


def _kept_response_headers(raw: list[tuple[bytes, bytes]], bearer: str) -> tuple[Headers, str]:
    """The response headers as the journal keeps them (`kept_headers`), and the response's media type."""
    token = bearer.encode("latin-1", "replace")
    key = tuple((name, value) for name, value in raw)
    if token and any(token in value for _, value in key):
        decoded = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in key]
        return kept_headers(decoded, secrets=(bearer,)), _content_type(raw)
    found = _KEPT.get(key)
    if found is None:
        decoded = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in key]
        found = (kept_headers(decoded), _content_type(raw))
        if len(_KEPT) >= _MAX_SHARED:
            _KEPT.clear()
        _KEPT[key] = found
    return found


def _shared(text: str) -> str:
    # One object for each of the few request media types, rather than one per journal entry.
    found = _STRINGS.get(text)
    if found is None:
        if len(_STRINGS) >= _MAX_SHARED:
            _STRINGS.clear()
        found = _STRINGS[text] = text
    return found


def _bearer(headers: dict[str, str]) -> str:
    # The caller's token, so that an answer echoing it does not put it in the journal.
    return headers.get("authorization", "").strip().partition(" ")[2].strip()
