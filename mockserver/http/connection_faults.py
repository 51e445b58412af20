"""Connection faults acted out at the socket: reset, empty response, malformed JSON, hang, slow body.

Under uvicorn the fake reaches the connection's transport to close or reset it. In-process transports
(httpx.ASGITransport, respx) have no socket, so there the abort surfaces as a `ConnectionFault` exception
for the test harness to map onto its client's errors.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.behaviour.clock import Clock
from mockserver.http.body_reader import until_disconnect
from mockserver.http.holding import blocked_caller, hold
from mockserver.http.shutdown import Drain, shutting_down

ABORT_KEY = "qolaba_mock.abort"
# A body that starts like the envelope and stops mid-object.
MALFORMED_BODY = b'{"time_required": {"startup_time": 0.0, "runtime": '
SLOW_BODY_SECONDS = 10.0
SLOW_BODY_CHUNKS = 20


class ConnectionFault(ConnectionError):
    """Raised in-process where a socket would have been reset or closed without an answer."""

    def __init__(self, fault: str) -> None:
        super().__init__(f"qolaba-mock connection fault: {fault}")
        self.fault = fault


def fault_response(fault: str, body: bytes, clock: Clock, drain: Drain) -> Response:
    if fault == "malformed_json":
        return Response(MALFORMED_BODY, media_type="application/json")
    if fault == "slow_body":
        return _SlowBody(body, clock, drain)
    if fault == "hang":
        return _Hang(clock, drain)
    return _Abort(fault)


class _Abort(Response):
    def __init__(self, fault: str) -> None:
        super().__init__()
        self.fault = fault

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Sends nothing: the outer middleware, which holds the server's own `send`, does the abort.
        scope.setdefault("state", {})[ABORT_KEY] = self.fault


class _Hang(Response):
    def __init__(self, clock: Clock, drain: Drain) -> None:
        super().__init__()
        self.clock = clock
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No answer until the client gives up (disconnects, cancels, or its timeout passes), or the server stops.
        if await hold(self.clock, None, receive, self.drain, blocked_caller(scope)) == "draining":
            await shutting_down()(scope, receive, send)


class _SlowBody(Response):
    def __init__(self, body: bytes, clock: Clock, drain: Drain) -> None:
        super().__init__(body, media_type="application/json")
        self.clock = clock
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        size = max(1, -(-len(self.body) // SLOW_BODY_CHUNKS))
        step = SLOW_BODY_SECONDS / SLOW_BODY_CHUNKS
        # Each chunk is due at a fixed time from the start, so one clock advance of 10 s delivers them all.
        started = self.clock.now()
        caller = blocked_caller(scope)
        for index, begin in enumerate(range(0, len(self.body), size), start=1):
            ending = await hold(self.clock, started + index * step - self.clock.now(), receive, self.drain, caller)
            if ending == "disconnected":
                return
            more = begin + size < len(self.body)
            await send({"type": "http.response.body", "body": self.body[begin : begin + size], "more_body": more})


class ConnectionFaultMiddleware:
    """Outermost layer: performs aborts requested by `_Abort` with the server's transport, when there is one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        await self.app(scope, receive, send)
        fault = scope["state"].get(ABORT_KEY)
        if fault is None:
            return
        transport = _transport_of(send)
        if transport is None:
            raise ConnectionFault(fault)
        if fault == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:
                # Linger 0 turns close into a TCP RST: the client sees "connection reset by peer".
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
        # Wait for the server to notice, so it does not try to answer a closed connection.
        await until_disconnect(receive)


def _transport_of(send: Send) -> Any:
    # uvicorn passes its RequestResponseCycle.send bound method; the cycle holds the asyncio transport.
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    # uvloop's transports do not subclass asyncio's, so check for the methods used.
    return transport if all(hasattr(transport, name) for name in ("abort", "close", "get_extra_info")) else None
