"""`qolaba-mock record`: a reverse proxy in front of the API that checks each answer and writes a cassette.

Point an app at the proxy instead of the API. Each exchange is forwarded, its answer checked against the
contract as it passes (a violation is printed at once, one line each, as Prism's validating proxy does), and
appended to the cassette (`contracts.cassette.jsonl`). The `Authorization` header is forwarded but never written.
A poll of a queued task is recorded with its offset from the submit that queued it.

The proxy keeps the fake's guards (mockserver/http/guards.py, the same code): on loopback it answers only loopback
Host names, and refuses cross-origin admin writes, so a page that rebinds its DNS name to the proxy cannot
reach the upstream's admin API through it. It forwards `Origin`, so the upstream judges it too.

Usage:
    app = recording_proxy("https://qolaba-server-b2b.up.railway.app/api/v1/studio", Path("prod.jsonl"))
    # serve `app` with uvicorn on loopback, point the client at it
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from contracts.cassette.jsonl import KEPT_HEADERS
from contracts.cassette.jsonl_writer import CassetteWriter
from contracts.checks.single_answer import warm_up_checks
from contracts.spec.schema import max_request_bytes
from contracts.traffic.proxy_recorder import CassetteRecorder
from contracts.traffic.upstream import Answer, Upstream, UpstreamError
from mockserver.http.body_reader import BodyTooLarge, ClientGone, read_body, until_disconnect
from mockserver.http.guards import Guard, GuardMiddleware
from mockserver.http.shutdown import Drain, shutting_down
from mockserver.wire import envelope

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
# Once the server is told to stop, an exchange still waiting on the upstream gets this long to finish (and be
# recorded) before its client is answered 503; within the server's one-second grace (mockserver/server/draining.py).
FINISH_WITHIN = 0.5


class _Proxy:
    """The one endpoint: every path and method goes upstream, unless the client leaves or the server stops."""

    def __init__(self, upstream: Upstream, log: CassetteRecorder, drain: Drain, say: Callable[[str], None]) -> None:
        self.upstream, self.log, self.drain, self.say = upstream, log, drain, say
        self._stopping: asyncio.Future[None] | None = None

    def stopping(self) -> asyncio.Future[None]:
        """Resolved once the server starts to stop; one for all exchanges (of the serving loop).

        Asked of the drain once, not per exchange: `Drain.start()` runs in a signal handler and takes the lock
        that `Drain.signal()` holds, so a signal landing inside a `signal()` call would wait on itself.
        """
        if self._stopping is None or self._stopping.get_loop() is not asyncio.get_running_loop():
            self._stopping = self.drain.signal()
        return self._stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await self._exchange(scope, receive)
            if response is not None:
                await response(scope, receive, send)
        except asyncio.CancelledError:
            # A shutdown past its grace cancels what still runs; the process is ending, no traceback is due.
            if not self.drain.started:
                raise

    async def _exchange(self, scope: Scope, receive: Receive) -> Response | None:
        if self.drain.started:
            return shutting_down()
        try:
            raw = await read_body(scope, receive, max_request_bytes())
        except BodyTooLarge as exc:
            return _failed(413, "Payload Too Large", str(exc))
        except ClientGone:
            return None  # nobody is left to answer
        started = self.log.started()
        try:
            forwarded = await self._forwarded(scope, receive, raw)
        except UpstreamError as exc:
            self.say(f"upstream error: {scope['method']} {scope['path']}: {exc}")
            return _failed(502, "Bad Gateway", str(exc))
        if not isinstance(forwarded, Answer):
            return forwarded
        # Written and checked before the answer goes out: a client that has its answer finds it in the cassette,
        # and any violation already said.
        self.log.check(self.log.record(scope, raw, forwarded, started), forwarded)
        return Response(forwarded.content, forwarded.status_code, forwarded.kept_headers(KEPT_HEADERS))

    async def _forwarded(self, scope: Scope, receive: Receive, raw: bytes) -> Answer | Response | None:
        """The upstream's answer; None when the client left first (the upstream request is cancelled); 503 when
        the server stops and the answer does not come within FINISH_WITHIN."""
        sending = asyncio.ensure_future(self.upstream.send(scope, raw))
        left = asyncio.ensure_future(until_disconnect(receive))
        draining = self.stopping()
        try:
            await asyncio.wait((sending, left, draining), return_when=asyncio.FIRST_COMPLETED)
            if draining.done() and not (sending.done() or left.done()):
                await asyncio.wait((sending, left), timeout=FINISH_WITHIN, return_when=asyncio.FIRST_COMPLETED)
            if sending.done():
                return sending.result()
            if left.done():
                self.say(f"client left: {scope['method']} {scope['path']}: its upstream request is cancelled")
                return None
            return shutting_down()
        finally:
            sending.cancel()
            left.cancel()


def _failed(status_code: int, error: str, detail: str) -> Response:
    body = envelope.encode(envelope.failed(error=error, error_data=detail))
    return Response(body, status_code, media_type="application/json")


def recording_proxy(
    upstream: str,
    out: Path,
    *,
    say: Callable[[str], None] = print,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 300.0,
    host: str = "127.0.0.1",
    allowed_hosts: tuple[str, ...] = (),
) -> Starlette:
    """The proxy as an ASGI app, writing the cassette to `out`; `app.state.close()` closes the file.

    `host` is the address it is served on: on loopback, requests must name a loopback host or one of
    `allowed_hosts` (as `serve --allowed-host`). `transport` replaces the network (tests send the proxy's
    traffic to an in-process fake). One pooled client with keep-alive serves every exchange; the server
    closes it when it stops (`app.state.aclose`, run by qolaba-mock's server and by the ASGI lifespan).
    """
    writer = CassetteWriter(out, upstream).open()
    forwarder = Upstream(upstream, transport=transport, timeout=timeout)
    drain = Drain()
    proxy = _Proxy(forwarder, CassetteRecorder(writer, say), drain, say)
    guard = Guard(host=host, allowed_hosts=tuple(allowed_hosts))
    # The contract checks load schemathesis and the schema (a second or two): before serving, not on the first
    # exchange.
    warm_up_checks()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await forwarder.aclose()

    app = Starlette(
        routes=[Route("/{path:path}", proxy, methods=_METHODS)],
        middleware=[Middleware(GuardMiddleware, settings=lambda: guard)],
        lifespan=lifespan,
    )
    # Every line is flushed as written; closing only releases the file (call it once the server has stopped).
    app.state.close = writer.close
    app.state.aclose = forwarder.aclose
    # Started by the server on SIGTERM or Ctrl-C (mockserver/server/draining.py): exchanges in flight finish or get 503.
    app.state.drain = drain
    return app
