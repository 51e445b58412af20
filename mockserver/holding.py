"""Holding a request for its simulated time, and letting go early: when its client leaves, or the server stops.

No request may hold the server: a held request ends when its client disconnects (so nobody is answered
after leaving, and its socket is released), and every held request ends at once when the server drains
for shutdown.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Literal

from starlette.responses import JSONResponse
from starlette.types import Receive

from mockserver import envelope
from mockserver.clock import Clock

Ending = Literal["elapsed", "disconnected", "draining"]


class Drain:
    """Set once, when the server starts shutting down; every held request then lets go.

    `start()` may be called from any thread and from a signal handler: it takes no lock, since a signal handler
    runs on the main thread between two bytecodes, possibly while that thread holds the lock, and would wait
    for it forever. The waiters are let go on their own event loop instead, which alone touches them.
    """

    def __init__(self) -> None:
        self._started = False
        # Each loop's waiters, touched only on that loop's thread (an app may serve several loops in-process).
        self._waiters: dict[asyncio.AbstractEventLoop, set[asyncio.Future[None]]] = {}

    @property
    def started(self) -> bool:
        return self._started

    @property
    def waiting(self) -> int:
        """Requests held now that the drain would let go."""
        return sum(len(waiters) for waiters in tuple(self._waiters.values()))

    def start(self) -> None:
        self._started = True
        # `signal()` notes its loop before it reads `_started`, and this reads the loops after setting it: a
        # waiter either sees the drain started, or its loop is here to be told.
        for loop in tuple(self._waiters):
            try:
                loop.call_soon_threadsafe(self._release, loop)
            except RuntimeError:  # that loop is closed: nothing on it waits any more
                pass

    def _release(self, loop: asyncio.AbstractEventLoop) -> None:
        for future in self._waiters.pop(loop, set()):
            if not future.done():
                future.set_result(None)

    def signal(self) -> asyncio.Future[None]:
        """A future of the running loop, resolved once the drain has started; cancel it to stop waiting."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        waiters = self._waiters.setdefault(loop, set())
        waiters.add(future)
        if self._started:
            self._release(loop)
            return future
        future.add_done_callback(functools.partial(self._forget, loop))
        return future

    def _forget(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> None:
        waiters = self._waiters.get(loop)
        if waiters is not None:
            waiters.discard(future)
            if not waiters:
                # An app that outlives many loops (one per test, say) keeps none of them.
                del self._waiters[loop]


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
