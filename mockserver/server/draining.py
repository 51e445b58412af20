"""uvicorn for the fake: bounded connections (bounded_http.py), and a shutdown that keeps its word.

On SIGTERM or Ctrl-C every held request is let go with its 503 (holding.py), and the server closes nothing
until every request it has read whole has had its answer written: uvicorn's own shutdown closes idle
connections at once and cancels what still runs after its grace period, so on a busy machine a held client
could lose its connection before its 503 was written.

Imported only when a server is started: uvicorn stays out of library and plugin imports.
"""

from __future__ import annotations

import asyncio
import signal
import socket
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from mockserver.config.settings import Config, ConfigError
from mockserver.http.shutdown import Drain
from mockserver.server.bounded_http import ReadLimits, answers_owed, protocol_for, sweep

# How long a shutdown waits, at most, for the answers owed to requests it has read whole (the held ones' 503s
# are written within milliseconds; this bounds a starved machine, or a render still running).
SETTLE_SECONDS = 10.0
# Then how long uvicorn waits for the rest (a client still sending its body, say) before cancelling it.
GRACE_SECONDS = 1


class DrainingServer(uvicorn.Server):
    """uvicorn's server with the fake's read bounds (bounded_http.py). On SIGTERM or Ctrl-C every held request
    answers 503 at once (holding.py); the server stops accepting, waits (up to SETTLE_SECONDS) until every
    request it has read whole has had its answer written, and only then closes connections; whatever still
    runs GRACE_SECONDS later (a client still sending, say) is cancelled.

    Usage:
        DrainingServer(create_app(config)).run(sockets=[sock])
    """

    def __init__(self, app: ASGIApp, *, announce: str | None = None) -> None:
        self._state: Any = getattr(app, "state", None)
        self._drain: Drain | None = getattr(self._state, "drain", None)
        backend = getattr(self._state, "backend", None)
        config: Config = getattr(backend, "config", None) or Config()
        limits = ReadLimits(config.header_timeout, config.body_timeout, config.max_connections)
        # No lifespan: the fake has no startup or shutdown work, and a second Ctrl-C would cancel the pending
        # lifespan task with a traceback.
        super().__init__(
            uvicorn.Config(
                app,
                http=protocol_for(limits),
                ws="none",
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=GRACE_SECONDS,
            )
        )
        # The signals that stopped it, in order.
        self.exit_signals: list[int] = []
        self._announce = announce
        # True while a shutdown waits for the answers owed to requests read whole.
        self.settling = False

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets and self._state is not None:
            # The admin API shows this port, not the 0 a `--port 0` asked for.
            self._state.bound_port = sockets[0].getsockname()[1]
        await super().serve(sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # Announced only now, with uvicorn's signal handlers in place: a supervisor that sends SIGTERM as soon as
        # it reads the line gets a clean shutdown, not the default action of a signal nobody handles yet.
        if self._announce is not None and self.started:
            print(self._announce, flush=True)

    async def on_tick(self, counter: int) -> bool:
        sweep(self.server_state.connections, asyncio.get_running_loop().time())
        return await super().on_tick(counter)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Runs in a signal handler or on another thread (LiveServer.stop): Drain.start takes no lock.
        self.exit_signals.append(sig)
        if self._drain is not None:
            self._drain.start()
        super().handle_exit(sig, frame)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self._drain is not None:
            self._drain.start()  # however the exit was asked for
        for server in self.servers:
            server.close()  # no new connections; those open may still finish what they sent
        loop = asyncio.get_running_loop()
        settle_by = loop.time() + SETTLE_SECONDS
        self.settling = True
        while answers_owed(self.server_state.connections) and not self.force_exit and loop.time() < settle_by:
            await asyncio.sleep(0.01)
        self.settling = False
        await super().shutdown(sockets)
        # What the app keeps open in this loop (the recording proxy's pooled client) closes before the loop ends.
        closing = getattr(self._state, "aclose", None)
        if closing is not None:
            await closing()


def listening_socket(host: str, port: int) -> tuple[socket.socket, str]:
    """A socket bound and listening on host:port (port 0: a free one), and its URL; ConfigError if it cannot be.

    Bound before uvicorn starts, so a busy port is a one-line error and port 0 can report its choice, and
    listening before the URL is announced, since a client that reads it may connect at once.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    bound_host, bound_port = sock.getsockname()[:2]
    url_host = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
    return sock, f"http://{url_host}:{bound_port}"


def serve_until_stopped(app: ASGIApp, sock: socket.socket, *, announce: str | None = None) -> None:
    """Serve `app` on `sock` until SIGTERM or Ctrl-C; a Ctrl-C ends in KeyboardInterrupt, as a CLI expects.

    `announce` is printed once the server is up and stops cleanly on a signal.
    """
    server = DrainingServer(app, announce=announce)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if signal.SIGINT in server.exit_signals:
        # Ctrl-C normally arrives as KeyboardInterrupt once uvicorn re-raises it; a parent that started us with
        # SIGINT ignored (a background job of a script) swallows that, and the exit must not depend on it.
        raise KeyboardInterrupt
