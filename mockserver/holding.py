"""Holding a request for its simulated time, and letting go early: when its client leaves, or the server stops.

No request may hold the server: a held request ends when its client disconnects (so nobody is answered
after leaving, and its socket is released), and every held request ends at once when the server drains
for shutdown.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Literal

from starlette.responses import JSONResponse
from starlette.types import Receive

from mockserver import envelope
from mockserver.clock import Clock, wake_soon

Ending = Literal["elapsed", "disconnected", "draining"]


class Drain:
    """Set once, when the server starts shutting down; every held request then lets go.

    `start()` may be called from any thread, including a signal handler.
    """

    def __init__(self) -> None:
        self._started = False
        self._waiters: set[asyncio.Future[None]] = set()
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._started

    @property
    def waiting(self) -> int:
        """Requests held now that the drain would let go."""
        return len(self._waiters)

    def start(self) -> None:
        with self._lock:
            self._started = True
            waiters, self._waiters = self._waiters, set()
        for future in waiters:
            wake_soon(future)

    def signal(self) -> asyncio.Future[None]:
        """A future of the running loop, resolved once the drain has started; cancel it to stop waiting."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._started:
                future.set_result(None)
                return future
            self._waiters.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: asyncio.Future[None]) -> None:
        with self._lock:
            self._waiters.discard(future)


async def hold(clock: Clock | None, seconds: float | None, receive: Receive, drain: Drain) -> Ending:
    """Wait `seconds` of simulated time on `clock` (None: no end of its own), unless the client disconnects
    or the server drains first.

    Call it only once the request body has been read: it listens on `receive` for the disconnect. One task
    (the listener) and two plain futures per held request: a burst of held requests stays cheap.
    """
    if drain.started:
        return "draining"
    if seconds is not None and seconds <= 0:
        return "elapsed"
    ended: asyncio.Future[Ending] = asyncio.get_running_loop().create_future()

    def end_with(ending: Ending) -> Callable[[asyncio.Future[None]], None]:
        def end(waited: asyncio.Future[None]) -> None:
            if not waited.cancelled() and not ended.done():
                ended.set_result(ending)

        return end

    waits: list[tuple[asyncio.Future[None], Ending]] = [
        (asyncio.ensure_future(until_disconnect(receive)), "disconnected"),
        (drain.signal(), "draining"),
    ]
    if clock is not None and seconds is not None:
        waits.append((clock.timer(seconds), "elapsed"))
    for waited, ending in waits:
        waited.add_done_callback(end_with(ending))
    try:
        return await ended
    finally:
        for waited, _ in waits:
            waited.cancel()


async def until_disconnect(receive: Receive) -> None:
    """Return when the client has gone (the request body must already be read)."""
    while (await receive())["type"] != "http.disconnect":
        pass


def shutting_down() -> JSONResponse:
    """What a request still held when the server stops gets instead of its answer."""
    detail = "qolaba-mock is shutting down; the request was not completed. Retry against a running server."
    return JSONResponse(envelope.failed(error="Service Unavailable", error_data=detail), status_code=503)
