"""The request's side of a connection: its body, read whole but never past a size limit, and its end.

The API, the admin API and the recording proxy share this, so every body is held to one limit. A body that
could not be read whole says how much of it came (`BodyNotRead`), for whoever keeps a record of the request.
"""

from __future__ import annotations

from starlette.types import Receive, Scope

from mockserver.http import request_facts as _request


class BodyNotRead(Exception):
    """The body was not read whole: `received` is what came of it before reading stopped, `size` its length."""

    def __init__(self, message: str, received: bytes = b"", size: int = 0) -> None:
        super().__init__(message)
        self.received, self.size = received, size


class BodyTooLarge(BodyNotRead):
    def __init__(self, limit: int, received: bytes = b"", size: int = 0) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.", received, size)


class ClientGone(BodyNotRead):
    """The client disconnected before its body arrived: there is nobody left to answer."""

    def __init__(
        self, received: bytes = b"", size: int = 0, message: str = "The client disconnected before its body arrived."
    ) -> None:
        super().__init__(message, received, size)


# Set in a request's scope state, to the seconds allowed, by the server when its body did not arrive in time
# (bounded_http.py); the reader then answers 408 rather than wait on.
BODY_TIMED_OUT = "qolaba_mock.body_timed_out"


class BodyTimedOut(ClientGone):
    """The body trickled in slower than the server allows: the client is still there, and is told so (408).

    A ClientGone, so that a reader that knows only that one still stops reading.
    """

    def __init__(self, seconds: float, received: bytes = b"", size: int = 0) -> None:
        super().__init__(received, size, f"The request body did not arrive within {seconds:g} s.")


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    """The whole body, refused as soon as it is known to pass `limit` (declared or streamed)."""
    declared = _request.headers(scope).get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    # Straight from `receive`: Starlette's `stream()` costs an async generator step per message.
    chunks: list[bytes] = []
    size = 0
    state = scope.get("state")
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone(b"".join(chunks), size)
        if message["type"] != "http.request":
            continue
        late = None if state is None else state.get(BODY_TIMED_OUT)
        if late is not None:
            raise BodyTimedOut(late, b"".join(chunks), size)
        chunk = message.get("body", b"")
        size += len(chunk)
        chunks.append(chunk)
        if size > limit:
            raise BodyTooLarge(limit, b"".join(chunks), size)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def until_disconnect(receive: Receive) -> None:
    """Return when the client has gone (the request body must already be read)."""
    while (await receive())["type"] != "http.disconnect":
        pass
