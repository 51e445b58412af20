"""uvicorn for the fake: a shutdown first lets go of every held request, so it ends within about a second.

Imported only when a server is started: uvicorn stays out of library and plugin imports.
"""

from __future__ import annotations

import signal
import socket
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

from mockserver.config import ConfigError
from mockserver.holding import Drain

# How long a shutdown waits for answers still on their way, after held requests were let go (holding.py).
GRACE_SECONDS = 1


class DrainingServer(uvicorn.Server):
    """uvicorn's server; on SIGTERM or Ctrl-C every held request answers 503 at once (holding.py), and
    anything still running a second later is cancelled.

    Usage:
        DrainingServer(create_app(config)).run(sockets=[sock])
    """

    def __init__(self, app: ASGIApp) -> None:
        # No lifespan: the fake has no startup or shutdown work, and a second Ctrl-C would cancel the pending
        # lifespan task with a traceback.
        super().__init__(
            uvicorn.Config(
                app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=GRACE_SECONDS
            )
        )
        self._state: Any = getattr(app, "state", None)
        self._drain: Drain | None = getattr(self._state, "drain", None)
        # The signals that stopped it, in order.
        self.exit_signals: list[int] = []

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets and self._state is not None:
            # The admin API shows this port, not the 0 a `--port 0` asked for.
            self._state.bound_port = sockets[0].getsockname()[1]
        await super().serve(sockets)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        # What the app keeps open in this loop (the recording proxy's pooled client) closes before the loop ends.
        closing = getattr(self._state, "aclose", None)
        if closing is not None:
            await closing()

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.exit_signals.append(sig)
        if self._drain is not None:
            self._drain.start()
        super().handle_exit(sig, frame)


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


def serve_until_stopped(app: ASGIApp, sock: socket.socket) -> None:
    """Serve `app` on `sock` until SIGTERM or Ctrl-C; a Ctrl-C ends in KeyboardInterrupt, as a CLI expects."""
    server = DrainingServer(app)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    if signal.SIGINT in server.exit_signals:
        # Ctrl-C normally arrives as KeyboardInterrupt once uvicorn re-raises it; a parent that started us with
        # SIGINT ignored (a background job of a script) swallows that, and the exit must not depend on it.
        raise KeyboardInterrupt
