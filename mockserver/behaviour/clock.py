"""Time for the fake. Nothing else in the package reads the system clock.

`SystemClock` follows wall time, optionally sped up; `VirtualClock` moves only when told, so a test
of a 40-second job takes no real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from typing import Protocol

# The last second that dates, output names and `time.gmtime` can express (9999-12-31T23:59:59Z).
LATEST = 253_402_300_799.0


class Clock(Protocol):
    def now(self) -> float:
        """Simulated seconds since the epoch."""
        ...

    def timer(self, seconds: float) -> asyncio.Future[None]:
        """A future of the running loop, resolved once `seconds` of simulated time have passed.

        Cancelling it abandons the wait. Being a plain future, not a task, it costs one object per wait.
        """
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time."""
        ...


class SystemClock:
    """Wall-clock time; `scale` < 1 makes simulated durations pass faster (0.01: 40 s in 0.4 s)."""

    def __init__(self, scale: float = 1.0) -> None:
        if scale <= 0:
            raise ValueError(f"scale={scale!r} must be a positive number")
        self.scale = scale
        self._origin_real = time.time()

    def now(self) -> float:
        return self._origin_real + (time.time() - self._origin_real) / self.scale

    def timer(self, seconds: float) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        handle = loop.call_later(max(0.0, seconds) * self.scale, _wake, future)
        future.add_done_callback(lambda _: handle.cancel())
        return future

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds * self.scale)


class VirtualClock:
    """Simulated time that moves only through `advance`; sleepers wake when their deadline is passed.

    It starts at `start` seconds since the epoch (2023-11-14T22:13:20Z by default), so dates the fake derives
    from it look like real ones. With `autojump`, a request the fake holds (latency, a replayed duration) moves
    the clock to the end of the hold at once, as `advance()` would: for a server whose clients cannot advance
    it while they wait for their answer (the pytest live server).

    Usage:
        clock = VirtualClock()
        clock.advance(40)   # a 40 s job is now done
    """

    def __init__(self, start: float = 1_700_000_000.0, *, autojump: bool = False) -> None:
        self.autojump = autojump
        self._now = float(start)
        self._order = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._abandoned = 0
        # Tests advance the clock from their own thread while a live server's loop adds sleepers.
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward and wake every sleeper whose deadline has come; returns the new time.

        ValueError if `seconds` is negative, not a finite number, or would carry the clock past year 9999.
        """
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise ValueError(f"seconds={seconds!r} must be a number")
        if not 0 <= seconds <= LATEST - self._now:
            raise ValueError(
                f"seconds={seconds!r} must be between 0 and {LATEST - self._now:.0f}: the clock never goes back, "
                "nor past the year 9999"
            )
        with self._lock:
            self._now += seconds
            while self._sleepers and self._sleepers[0][0] <= self._now:
                _, _, future = heapq.heappop(self._sleepers)
                if not future.done():
                    # advance() may be called from a thread other than the sleeper's loop (a live server).
                    wake_soon(future)
            return self._now

    def timer(self, seconds: float) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if seconds <= 0:
            future.set_result(None)
            return future
        with self._lock:
            heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        future.add_done_callback(self._forget_if_abandoned)
        return future

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await self.timer(seconds)

    @property
    def sleepers(self) -> int:
        """Sleepers still waiting for their deadline."""
        with self._lock:
            return sum(1 for _, _, future in self._sleepers if not future.done())

    def _forget_if_abandoned(self, future: asyncio.Future[None]) -> None:
        # A sleeper whose request went away stays in the heap until its deadline; far deadlines would pile
        # up, so the heap is rebuilt once about half of it is abandoned (amortised O(1) per sleeper). The
        # count is a trigger, not an exact figure: a sleeper cancelled just after its wake-up counts too.
        if not future.cancelled():
            return
        with self._lock:
            self._abandoned += 1
            if self._abandoned * 2 > len(self._sleepers):
                self._sleepers = [entry for entry in self._sleepers if not entry[2].done()]
                heapq.heapify(self._sleepers)
                self._abandoned = 0


def wake_soon(future: asyncio.Future[None]) -> None:
    """Resolve `future` in its own loop, from any thread, unless it is already done (e.g. cancelled)."""
    future.get_loop().call_soon_threadsafe(_wake, future)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
