"""ASGI middleware that writes every API exchange to its namespace's journal (admin calls are not recorded)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import auth, namespaces
from mockserver.backend import Backend
from mockserver.connection_faults import ABORT_KEY
from mockserver.journal import Entry

# Bodies are kept for inspection up to this size; larger ones are summarised.
_KEEP_BYTES = 64 * 1024


class RecordingMiddleware:
    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend
        self._seq = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        name = headers.get(namespaces.HEADER, namespaces.DEFAULT)
        try:
            space = self.backend.namespaces.get(name)
        except namespaces.NamespaceError:
            space = self.backend.default
        started_at = space.clock.now()
        request_body, response_body = bytearray(), bytearray()
        status: list[int] = []
        response_size = [0]
        media_type: list[str] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < _KEEP_BYTES:
                request_body.extend(message.get("body", b"")[: _KEEP_BYTES - len(request_body)])
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                media_type.append(Headers(raw=message.get("headers", [])).get("content-type", ""))
            elif message["type"] == "http.response.body":
                response_size[0] += len(message.get("body", b""))
            if message["type"] == "http.response.body" and len(response_body) < _KEEP_BYTES:
                response_body.extend(message.get("body", b"")[: _KEEP_BYTES - len(response_body)])
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            state = scope.get("state", {})
            aborted = state.get(ABORT_KEY) is not None
            space.journal.record(
                Entry(
                    seq=next(self._seq),
                    namespace=space.name,
                    started_at=started_at,
                    finished_at=space.clock.now(),
                    method=scope["method"],
                    path=scope["path"],
                    status=None if aborted or not status else status[0],
                    fault=state.get("qolaba_mock.fault"),
                    token_id=auth.token_id(headers) if "authorization" in headers else None,
                    request_body=_readable(bytes(request_body), "application/json", len(request_body)),
                    response_body=_readable(
                        bytes(response_body), media_type[0] if media_type else "", response_size[0]
                    ),
                )
            )


def _readable(body: bytes, media_type: str, size: int) -> Any:
    if not body:
        return None
    if media_type.startswith("image/"):
        return f"<{media_type}, {size} bytes>"
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return body[:200].decode("utf-8", "replace")
