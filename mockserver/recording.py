"""ASGI middleware that writes every API exchange to its namespace's journal (admin calls are not recorded).

The entry is written before the last byte of the answer goes out, so a client that has its answer can
read its own call in the journal, whatever thread it reads from.
"""

from __future__ import annotations

import itertools
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import _request, namespaces
from mockserver.backend import Backend
from mockserver.connection_faults import ABORT_KEY
from mockserver.journal import Body, Entry, kept_headers
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
        state = scope.setdefault("state", {})
        headers = _request.headers(scope)
        # Looked up, never created: only an authenticated API call creates a namespace (routes.py).
        known = self.backend.namespaces.find(headers.get(namespaces.HEADER, namespaces.DEFAULT))
        started_at = (known or self.backend.default).clock.now()
        keep = self.backend.config.journal_body_bytes
        request_body, response_body = bytearray(), bytearray()
        sizes = [0, 0]
        keep_response = [keep]
        # The answer's status and headers (decoded), once it has started.
        start: list[tuple[int, list[tuple[str, str]]]] = []
        recorded = False

        def record() -> None:
            nonlocal recorded
            recorded = True
            space, arrived = state.get(_SPACE_KEY, (known or self.backend.default, started_at))
            answered = start and state.get(ABORT_KEY) is None and not state.get(_GONE_KEY)
            response_headers = start[0][1] if start else []
            space.journal.record(
                Entry(
                    seq=next(self._seq),
                    namespace=space.name,
                    started_at=arrived,
                    finished_at=space.clock.now(),
                    method=scope["method"],
                    path=scope["path"],
                    status=start[0][0] if answered else None,
                    fault=state.get(_FAULT_KEY),
                    token_id=_request.token_id(scope) if "authorization" in headers else None,
                    request=Body(bytes(request_body), sizes[0], headers.get("content-type", "")),
                    response=Body(bytes(response_body), sizes[1], _first(response_headers, "content-type")),
                    response_headers=kept_headers(response_headers, secrets=(_bearer(headers),)),
                )
            )

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                _keep(request_body, message.get("body", b""), keep, sizes, 0)
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = message.get("headers", [])
                decoded = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw]
                start.append((message["status"], decoded))
                if _first(decoded, "content-type").startswith("image/"):
                    keep_response[0] = 0  # an image is summarised by its type and size
            elif message["type"] == "http.response.body":
                _keep(response_body, message.get("body", b""), keep_response[0], sizes, 1)
                if not message.get("more_body", False) and not recorded:
                    record()
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            if not recorded:
                record()


def _first(headers: list[tuple[str, str]], name: str) -> str:
    # Starlette writes response header names in lower case.
    return next((value for key, value in headers if key == name), "")


def _bearer(headers: dict[str, str]) -> str:
    # The caller's token, so that an answer echoing it does not put it in the journal.
    return headers.get("authorization", "").strip().partition(" ")[2].strip()


def _keep(kept: bytearray, chunk: Any, limit: int, sizes: list[int], index: int) -> None:
    sizes[index] += len(chunk)
    if len(kept) < limit:
        kept.extend(chunk[: limit - len(kept)])
