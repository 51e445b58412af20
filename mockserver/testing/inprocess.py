"""httpx transports that call the fake's ASGI app in the test's own process: no socket, no server.

`AsyncTransport` does what `httpx.ASGITransport` does, minus what a fake in the same process never needs:
an anyio event per request, a request body fed in chunks, a response stream that is then read again. Each
in-process call cost about 110 µs of transport before (more than the fake itself); property-based tests
make thousands of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

import httpx

from mockserver.http.connection_faults import ConnectionFault
from mockserver.http.holding import CALLER_KEY, BlockedCaller

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal
    from starlette.types import ASGIApp

# What httpx's own ASGITransport reports as the client of every in-process request.
_CLIENT = ("127.0.0.1", 123)
_EMPTY_RESPONSE = "Server disconnected without sending a response."


class AsyncTransport(httpx.AsyncBaseTransport):
    """For `httpx.AsyncClient(transport=...)`: the app awaited in the caller's event loop.

    App exceptions reach the caller, as with `httpx.ASGITransport(raise_app_exceptions=True)`. Connection
    faults the fake acts out at the socket become the errors httpx raises for them over a real one.
    """

    def __init__(self, app: ASGIApp, root_path: str = "") -> None:
        self.app = app
        self.root_path = root_path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.handle_for(request, None)

    async def handle_for(self, request: httpx.Request, caller: BlockedCaller | None) -> httpx.Response:
        """The app's answer to `request`, sent on behalf of `caller` (None: a caller free to advance the clock)."""
        exchange = _Exchange(await request.aread())
        scope = self._scope(request)
        if caller is not None:
            scope["extensions"] = {CALLER_KEY: caller}
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except ConnectionFault as exc:
            if exc.fault == "reset":
                raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request) from None
            raise httpx.RemoteProtocolError(_EMPTY_RESPONSE, request=request) from None
        finally:
            exchange.close()
        if exchange.status is None or not exchange.complete:
            raise httpx.RemoteProtocolError(_EMPTY_RESPONSE, request=request)
        content = b"" if request.method == "HEAD" else b"".join(exchange.body)
        return httpx.Response(exchange.status, headers=exchange.headers, content=content)

    def _scope(self, request: httpx.Request) -> dict[str, Any]:
        url = request.url
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "scheme": url.scheme,
            "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0],
            "query_string": url.query,
            "server": (url.host, url.port),
            "client": _CLIENT,
            "root_path": self.root_path,
        }


class _Exchange:
    """One request's ASGI `receive` and `send`: the whole body in one message, then a disconnect once the answer
    is complete (a held request listens for it)."""

    __slots__ = ("_body_sent", "_closed", "_request_body", "_waiters", "body", "complete", "headers", "status")

    def __init__(self, request_body: bytes) -> None:
        self._request_body = request_body
        self._body_sent = False
        self._closed = False
        self._waiters: list[asyncio.Future[None]] = []
        self.status: int | None = None
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.complete = False

    async def receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self._request_body, "more_body": False}
        if not (self.complete or self._closed):
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            if chunk:
                self.body.append(chunk)
            if not message.get("more_body", False):
                self.complete = True
                self._wake()

    def close(self) -> None:
        # The app is done (or failed): whoever still listens hears the client go.
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)


class SyncTransport(httpx.BaseTransport):
    """For a sync `httpx.Client(transport=...)`: the app on a background event loop, one call at a time.

    The calling thread is blocked until the answer, so nobody can advance a virtual clock for it: a call the
    fake holds moves the clock to the end of the hold by itself, and one held past the client's read timeout
    raises `httpx.ReadTimeout` once the clock has moved by that timeout, as a real client would give up.
    """

    def __init__(self, inner: AsyncTransport, portal: BlockingPortal) -> None:
        self._inner = inner
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()
        copy = httpx.Request(request.method, request.url, headers=request.headers, content=content)
        caller = BlockedCaller(_read_timeout(request))
        try:
            response = self._portal.call(self._inner.handle_for, copy, caller)
        except httpx.TransportError:
            # A hold that gave up leaves no answer (or half of a slow one): the reason is the timeout, not that.
            if caller.refused is None:
                raise
        _raise_if_refused(caller, request)
        return response


def _read_timeout(request: httpx.Request) -> float | None:
    timeout = request.extensions.get("timeout")
    read = timeout.get("read") if isinstance(timeout, dict) else None
    return float(read) if isinstance(read, int | float) else None


class WaitsForever(RuntimeError):
    """A sync call the fake holds until its client gives up (the `hang` fault), from a client with no timeout."""


def _raise_if_refused(caller: BlockedCaller, request: httpx.Request) -> None:
    if caller.refused == "timed_out":
        held = "until the client gives up" if caller.held_for is None else f"for {caller.held_for:g} s"
        raise httpx.ReadTimeout(
            f"qolaba-mock: the fake holds this call {held}, past this client's read timeout of "
            f"{caller.timeout:g} s, so it timed out after {caller.timeout:g} s of the fake's time, as it would "
            "against the real API. Give the client a longer timeout (httpx.Client(timeout=60)) or the fake a "
            "shorter latency.",
            request=request,
        )
    if caller.refused == "waits_forever":
        raise WaitsForever(
            "qolaba-mock: the fake holds this call until its client gives up (the `hang` fault), and this sync "
            "client has no read timeout, so it would wait forever; give it one, e.g. httpx.Client(timeout=5)."
        )
