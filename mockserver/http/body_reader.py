"""Request bodies off the wire: read whole, but never past a size limit.

The API and the admin API share this, so every body is held to one limit.
"""

from __future__ import annotations

from starlette.types import Receive, Scope

from mockserver.http import journal_recorder as recording
from mockserver.http import request_facts as _request


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")


class ClientGone(Exception):
    """The client disconnected before its body arrived: there is nobody left to answer."""


# Set in a request's scope state, to the seconds allowed, by the server when its body did not arrive in time
# (bounded_http.py); the reader then answers 408 rather than wait on.
BODY_TIMED_OUT = "qolaba_mock.body_timed_out"


class BodyTimedOut(ClientGone):
    """The body trickled in slower than the server allows: the client is still there, and is told so (408).

    A ClientGone, so that a reader that knows only that one still stops reading.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"The request body did not arrive within {seconds:g} s.")


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to pass `limit` (declared or streamed)."""
    declared = _request.headers(scope).get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    # Straight from `receive`: Starlette's `stream()` costs an async generator step per message.
    chunks: list[bytes] = []
    size = 0
    state = scope.get("state")
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone
            if message["type"] != "http.request":
                continue
            late = None if state is None else state.get(BODY_TIMED_OUT)
            if late is not None:
                raise BodyTimedOut(late)
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            if not message.get("more_body", False):
                body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
                recording.note_request_body(scope, body, size)
                return body
    except (BodyTooLarge, ClientGone):
        # The journal keeps the start of what came, and how much.
        recording.note_request_body(scope, b"".join(chunks), size)
        raise
