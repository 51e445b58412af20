"""The virtual clock: only forward, never past what dates can express, and it forgets sleepers that left."""

from __future__ import annotations

import math
from typing import Any

import anyio
import pytest

from mockserver import VirtualClock
from mockserver.behaviour.clock import LATEST

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("seconds", [-1, math.nan, math.inf, 1e308, True, "10", None, 10**400])
def test_advance_refuses_what_would_break_time(seconds: Any) -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError, match="seconds="):
        clock.advance(seconds)
    assert clock.now() == 1_700_000_000.0


def test_advance_reaches_the_last_second_of_year_9999_and_stops_there() -> None:
    clock = VirtualClock()
    assert clock.advance(LATEST - clock.now()) == LATEST
    with pytest.raises(ValueError, match="year 9999"):
        clock.advance(1)


async def test_sleepers_whose_requests_left_are_forgotten() -> None:
    clock = VirtualClock()
    async with anyio.create_task_group() as group:
        for _ in range(100):
            group.start_soon(clock.sleep, 1_000_000.0)
        while clock.sleepers < 100:
            await anyio.sleep(0)
        group.cancel_scope.cancel()

    assert clock.sleepers == 0
    assert len(clock._sleepers) <= 50  # the heap was rebuilt; far deadlines do not pile up
