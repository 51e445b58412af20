"""`create_app(config)`: the fake as a Starlette application."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import Receive, Scope, Send

from mockserver import admin
from mockserver.behaviour.clock import Clock
from mockserver.behaviour.fidelity.answers import EnvelopeAnswers
from mockserver.config.settings import Config
from mockserver.dashboard import pages as dashboard
from mockserver.dashboard.rows import Judgments
from mockserver.dashboard.stream import StreamGate
from mockserver.http.connection_faults import ConnectionFaultMiddleware
from mockserver.http.guards import AdminSessions, GuardMiddleware
from mockserver.http.journal_recorder import RecordingMiddleware
from mockserver.http.responses import reply_response
from mockserver.http.routes import api_endpoints, api_routes
from mockserver.http.shutdown import Drain
from mockserver.sim.backend import Backend
from mockserver.wire import envelope
from mockserver.wire.envelope import Reply

logger = logging.getLogger("qolaba_mock")


def create_app(config: Config | None = None, *, clock: Clock | None = None) -> Starlette:
    """The fake, ready to serve in-process (httpx.ASGITransport) or under uvicorn.

    `clock` overrides the one `config.clock` would build, and is shared by every namespace.

    Usage:
        app = create_app(Config(seed=7))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://fake") as client:
            ...
    """
    config = config or Config()
    backend = Backend(config, clock)
    # Started by the server on shutdown: every held request lets go at once (holding.py).
    drain = Drain()
    endpoints = api_endpoints(backend, drain)
    # The dashboard's browser sessions: a cookie that stands for a token on the admin API (guards.py).
    sessions = AdminSessions()
    app = _FakeApp(
        routes=[*api_routes(endpoints), *dashboard.routes(), Mount("/__admin", routes=admin.routes)],
        exception_handlers={HTTPException: _http_error, Exception: _internal_error},
        middleware=[
            Middleware(GuardMiddleware, settings=lambda: backend.config, sessions=sessions),
            # The one recording point; it calls the API endpoints itself (journal_recorder.py).
            Middleware(RecordingMiddleware, backend=backend, endpoints=endpoints),
        ],
    )
    app.state.backend = backend
    app.state.drain = drain
    app.state.admin_sessions = sessions
    app.state.dashboard_streams = StreamGate()
    app.state.dashboard_judgments = Judgments()
    return app


class _FakeApp(Starlette):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The connection layer wraps even Starlette's error middleware: it needs the server's own `send`
        # to reach the socket, and Starlette's layers replace `send` with closures.
        self._connection_layer = ConnectionFaultMiddleware(super().__call__)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._connection_layer(scope, receive, send)
        except asyncio.CancelledError:
            # A shutdown past its grace period cancels what still runs (a client still uploading, say);
            # the process is ending, so that is no error worth a traceback.
            if not self.state.drain.started:
                raise


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    if request.url.path.startswith("/__admin"):
        # The admin API is the fake's own: it always answers in the contract's envelope.
        reply = EnvelopeAnswers().no_route(exc.status_code, request.method, request.url.path, headers)
        return reply_response(reply)
    profile = request.app.state.backend.profile
    reply = profile.answers.no_route(exc.status_code, request.method, request.url.path, headers)
    return reply_response(reply, keys=profile.envelope_keys)


async def _internal_error(request: Request, exc: Exception) -> Response:
    # A bug in the fake still answers the envelope, never an HTML traceback.
    logger.exception("unhandled error for %s %s", request.method, request.url.path)
    body = envelope.failed(error="Internal Error", error_data=repr(exc.args))
    return reply_response(Reply(500, body))
