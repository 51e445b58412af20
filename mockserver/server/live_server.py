"""LiveServer: the fake under uvicorn in a background thread, on a free loopback port (moto's ThreadedMotoServer)."""

from __future__ import annotations

import signal
import socket
import threading
from types import TracebackType
from typing import TYPE_CHECKING, cast

from mockserver.app import create_app
from mockserver.behaviour.clock import Clock
from mockserver.config.settings import Config

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.types import ASGIApp


class LiveServer:
    """A real socket server for clients that are not httpx, and for faults that need a real connection.

    Usage:
        with LiveServer(Config(seed=1)) as server:
            requests.post(server.url + "/getImage", json={"id": "x"}, headers=...)
    """

    def __init__(
        self, config: Config | None = None, *, clock: Clock | None = None, port: int = 0, app: ASGIApp | None = None
    ) -> None:
        """Binds `config.host` at once (port 0: a free one), so `url` is known before `start()`.

        `app` serves that ASGI app (e.g. a wrapper around the fake) instead of `create_app(config, clock=clock)`;
        `config` then only names the host. QolabaMock reads `app.state.backend`, so a wrapper should expose the
        wrapped fake's `state`.
        """
        if app is not None and clock is not None:
            raise TypeError("LiveServer(clock=...) sets the clock of the app built from config; build app= with it")
        self.config = config or Config()
        # The app being served. Typed as the fake for QolabaMock, which needs only `.state` and ASGI from it.
        self.app = create_app(self.config, clock=clock) if app is None else cast("Starlette", app)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((self.config.host, port))
        host, port = self._socket.getsockname()[:2]
        self.url = f"http://{host}:{port}"
        from mockserver.server.draining import DrainingServer

        self._server = DrainingServer(self.app)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("qolaba-mock live server failed to start")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        # As a SIGTERM would: drain held requests, then exit (off the main thread uvicorn re-raises nothing).
        self._server.handle_exit(signal.SIGTERM, None)
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
