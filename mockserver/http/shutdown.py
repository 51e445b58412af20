"""The server's shutdown as a request sees it: `Drain`, started once when the server stops, lets every held
request go (holding.py), and `shutting_down()` is what such a request is answered instead.

Apart from holding.py so that a server that holds nothing on a simulated clock (the recording proxy) can
share it without loading the fake's clocks.
"""

from __future__ import annotations

import asyncio
import functools

from starlette.responses import JSONResponse

from mockserver.wire import envelope


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


def shutting_down() -> JSONResponse:
    """What a request still held when the server stops gets instead of its answer."""
    detail = "qolaba-mock is shutting down; the request was not completed. Retry against a running server."
    return JSONResponse(envelope.failed(error="Service Unavailable", error_data=detail), status_code=503)
