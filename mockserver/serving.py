"""uvicorn for the fake: a shutdown first lets go of every held request, so it ends within about a second.

Imported only when a server is started: uvicorn stays out of library and plugin imports.
"""

from __future__ import annotations

from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

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
        state: Any = getattr(app, "state", None)
        self._drain: Drain | None = getattr(state, "drain", None)
        # The signals that stopped it, in order.
        self.exit_signals: list[int] = []

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.exit_signals.append(sig)
        if self._drain is not None:
            self._drain.start()
        super().handle_exit(sig, frame)
