"""The fake's answers as Starlette responses: a `Reply` as JSON, its envelope cut to the profile's keys."""

from __future__ import annotations

from starlette.responses import Response

from mockserver.wire import envelope
from mockserver.wire.envelope import KEYS, Reply


def reply_response(reply: Reply, headers: dict[str, str] | None = None, *, keys: tuple[str, ...] = KEYS) -> Response:
    """The reply as JSON, its envelope cut to `keys` (a fidelity profile's; the contract's eight by default)."""
    if reply.raw is not None:
        return Response(reply.raw, reply.status_code, {**reply.headers, **(headers or {})}, reply.media_type)
    body = envelope.encode(envelope.shaped(reply.body, keys))
    if not reply.headers and not headers and reply.status_code >= 200 and reply.status_code not in (204, 304):
        return _JsonResponse(body, reply.status_code)
    return Response(body, reply.status_code, {**reply.headers, **(headers or {})}, "application/json")


class _JsonResponse(Response):
    """What `Response(body, status, media_type="application/json")` sends, for the answer of almost every
    request: its two headers written at once rather than derived again on each."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int) -> None:
        self.body, self.status_code, self.background = body, status_code, None
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]


def failed_response(status_code: int, error: str, detail: str, headers: dict[str, str] | None = None) -> Response:
    """The contract's failure envelope with `error` and `detail`, in the contract's eight keys."""
    return reply_response(Reply(status_code, envelope.failed(error=error, error_data=detail)), headers)
