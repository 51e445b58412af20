"""Holding a request for its simulated time, and letting go early: when its client leaves, or the server stops.

No request may hold the server: a held request ends when its client disconnects (so nobody is answered
after leaving, and its socket is released), and every held request ends at once when the server drains
for shutdown (shutdown.py).

No request may freeze its caller either. A virtual clock moves only when someone advances it, and a caller
blocked on its answer cannot: a sync client in-process (its transport says so, `BlockedCaller`) or any client
of a server whose clock jumps by itself (`VirtualClock(autojump=True)`). For those the hold moves the clock to
its own end at once, exactly as `advance()` would, so everything due by then happens too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from starlette.types import Receive, Scope

from mockserver.behaviour.clock import Clock, VirtualClock
from mockserver.http.body_reader import until_disconnect
from mockserver.http.shutdown import Drain

Ending = Literal["elapsed", "disconnected", "draining"]
# Where an in-process transport puts its `BlockedCaller`: the request scope's ASGI extensions.
CALLER_KEY = "qolaba_mock.blocked_caller"


@dataclass
class BlockedCaller:
    """A client that waits for its answer with its thread blocked, so it cannot advance a virtual clock meanwhile.

    `timeout` is how long it waits for an answer (httpx's read timeout), counted on the fake's clock; None waits
    as long as it takes. A hold that would outlast it ends as if the client had left, and `refused` says why:
    "timed_out" after `timeout`, or "waits_forever" at once for a hold with no end of its own and a client with
    no timeout (a real one would freeze). `held_for` is how long that hold would have lasted (None: no end).
    """

    timeout: float | None
    refused: Literal["timed_out", "waits_forever"] | None = None
    held_for: float | None = None


def blocked_caller(scope: Scope) -> BlockedCaller | None:
    """The `BlockedCaller` an in-process transport sent this request with, if any."""
    extensions = scope.get("extensions")
    caller = extensions.get(CALLER_KEY) if isinstance(extensions, dict) else None
    return caller if isinstance(caller, BlockedCaller) else None


async def hold(
    clock: Clock, seconds: float | None, receive: Receive, drain: Drain, caller: BlockedCaller | None = None
) -> Ending:
    """Wait `seconds` of simulated time on `clock` (None: no end of its own), unless the client disconnects
    or the server drains first.

    A blocked `caller` waits no longer than its timeout, and on a virtual clock not at all: the clock jumps to
    the end of the hold (or of the timeout). A virtual clock with `autojump` does that for every hold with an end.

    Call it only once the request body has been read: it listens on `receive` for the disconnect. One task
    (the listener) and two plain futures per held request: a burst of held requests stays cheap.
    """
    if drain.started:
        return "draining"
    if seconds is not None and seconds <= 0:
        return "elapsed"
    if caller is not None:
        return await _hold_blocked(clock, seconds, receive, drain, caller)
    if seconds is not None and isinstance(clock, VirtualClock) and clock.autojump:
        clock.advance(seconds)
        return "elapsed"
    return await _wait(clock, seconds, receive, drain)


async def _hold_blocked(
    clock: Clock, seconds: float | None, receive: Receive, drain: Drain, caller: BlockedCaller
) -> Ending:
    limit = caller.timeout
    outlasts = limit is not None and (seconds is None or seconds > limit)
    wait = limit if outlasts else seconds
    if wait is None:
        # No end and no timeout: a real client would wait forever; this one is told so at once instead.
        caller.refused = "waits_forever"
        return "disconnected"
    if isinstance(clock, VirtualClock):
        clock.advance(wait)
        ending: Ending = "elapsed"
    else:
        ending = await _wait(clock, wait, receive, drain)
    if ending == "elapsed" and outlasts:
        caller.refused, caller.held_for = "timed_out", seconds
        return "disconnected"
    return ending


async def _wait(clock: Clock, seconds: float | None, receive: Receive, drain: Drain) -> Ending:
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
    if seconds is not None:
        waits.append((clock.timer(seconds), "elapsed"))
    for waited, ending in waits:
        waited.add_done_callback(end_with(ending))
    try:
        return await ended
    finally:
        for waited, _ in waits:
            waited.cancel()
