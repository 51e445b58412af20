"""Time for the fake. Nothing else in the package reads the system clock.

`SystemClock` follows wall time, optionally sped up; `VirtualClock` moves only when told, so a test
of a 40-second job takes no real time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Simulated seconds since the epoch."""
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

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:
            await asyncio.sleep(seconds * self.scale)


class VirtualClock:
    """Simulated time that moves only through `advance`; sleepers wake when their deadline is passed.

    Usage:
        clock = VirtualClock()
        clock.advance(40)   # a 40 s job is now done
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = float(start)
        self._order = itertools.count()
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward and wake every sleeper whose deadline has come; returns the new time."""
        if seconds < 0:
            raise ValueError(f"seconds={seconds!r} must not be negative: the clock never goes back")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                # advance() may be called from a thread other than the sleeper's loop (a live server).
                future.get_loop().call_soon_threadsafe(_wake, future)
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
