"""A caller that cannot advance the virtual clock is never left waiting on it.

A sync client in-process blocks its thread until the answer, so the hold moves the clock by itself: to the end
of the hold, or by the client's read timeout when the hold is longer. A client that may call `advance()` while
it waits (an async one) still waits for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from mockserver import Config, VirtualClock, create_app
from mockserver.testing.handle import QolabaMock
from mockserver.testing.inprocess import WaitsForever
from tests.conftest import AUTH, RECORDED_SECONDS, sync_cassette, valid_body


@pytest.fixture
def mock(clock: VirtualClock) -> Iterator[QolabaMock]:
    with QolabaMock(create_app(Config(seed=1, latency="fixed:40s"), clock=clock)) as mock:
        yield mock


def sync_client(mock: QolabaMock, timeout: float | None) -> httpx.Client:
    return httpx.Client(transport=mock.transport(), base_url="http://t", headers=AUTH, timeout=timeout)


def test_a_sync_call_held_by_latency_is_answered_with_the_clock_moved_by_the_latency(
    mock: QolabaMock, clock: VirtualClock
) -> None:
    start = clock.now()

    with sync_client(mock, timeout=60) as client:
        reply = client.post("/getImagetoImage", json=valid_body())

    assert reply.json()["status"] == "SUCCESS" and reply.json()["time_required"]["runtime"] == 40
    assert clock.now() == start + 40
    entry = mock.journal.last
    assert (entry.started_at, entry.finished_at, entry.status) == (start, start + 40, 200)


def test_a_sync_call_held_past_the_clients_read_timeout_times_out_after_that_timeout(
    mock: QolabaMock, clock: VirtualClock
) -> None:
    start = clock.now()

    with sync_client(mock, timeout=5) as client, pytest.raises(httpx.ReadTimeout) as timed_out:
        client.post("/getImagetoImage", json=valid_body())

    assert str(timed_out.value) == (
        "qolaba-mock: the fake holds this call for 40 s, past this client's read timeout of 5 s, so it timed out "
        "after 5 s of the fake's time, as it would against the real API. Give the client a longer timeout "
        "(httpx.Client(timeout=60)) or the fake a shorter latency."
    )
    assert clock.now() == start + 5
    entry = mock.journal.last
    assert (entry.finished_at - entry.started_at, entry.status) == (5, None)  # no answer reached the client


def test_the_clock_a_sync_call_moves_brings_everything_due_by_then(mock: QolabaMock) -> None:
    with sync_client(mock, timeout=None) as client:
        task_id = client.post("/getImagetoImage", json=valid_body(celery=True)).json()["task_id"]
        assert client.post("/getImage", json={"id": task_id}).json()["status"] == "PENDING"
        client.post("/getImagetoImage", json=valid_body())  # held 40 s: the queued 40 s task is done by then
        assert client.post("/getImage", json={"id": task_id}).json()["status"] == "SUCCESS"


def test_a_replayed_sync_answer_takes_its_recorded_seconds_on_the_clock(tmp_path: Path, clock: VirtualClock) -> None:
    cassette = sync_cassette(tmp_path / "prod.jsonl")
    start = clock.now()

    with (
        QolabaMock(create_app(Config(replay=str(cassette)), clock=clock)) as mock,
        sync_client(mock, timeout=5) as client,
    ):
        reply = client.post("/getImagetoImage", json=valid_body())

    assert reply.json()["time_required"]["runtime"] == RECORDED_SECONDS
    assert clock.now() - start == pytest.approx(RECORDED_SECONDS)
    assert mock.journal.last.fault == "replay"


def test_a_hang_times_a_sync_client_out_after_its_read_timeout(mock: QolabaMock, clock: VirtualClock) -> None:
    start = clock.now()

    with sync_client(mock, timeout=3) as client, pytest.raises(httpx.ReadTimeout, match="until the client gives up"):
        client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "hang"})

    assert clock.now() == start + 3


def test_a_hang_refuses_a_sync_client_with_no_timeout_at_once(mock: QolabaMock, clock: VirtualClock) -> None:
    start = clock.now()

    with sync_client(mock, timeout=None) as client, pytest.raises(WaitsForever, match="would wait forever"):
        client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "hang"})

    assert clock.now() == start


def test_a_slow_body_reaches_a_sync_client_whole_with_the_clock_moved_by_its_ten_seconds(
    mock: QolabaMock, clock: VirtualClock
) -> None:
    start = clock.now()

    with sync_client(mock, timeout=5) as client:
        reply = client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "slow_body"})

    assert reply.json()["status"] == "PENDING"
    assert clock.now() == pytest.approx(start + 10)


@pytest.mark.anyio
async def test_an_async_call_held_by_latency_still_waits_for_advance(mock: QolabaMock, clock: VirtualClock) -> None:
    start = clock.now()
    replies: list[dict[str, Any]] = []
    transport = mock.async_transport()

    async def call() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=AUTH) as client:
            replies.append((await client.post("/getImagetoImage", json=valid_body())).json())

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(call)
        for _ in range(100):  # let the request reach its hold: turns of the event loop, no real time
            if clock.sleepers:
                break
            await anyio.lowlevel.checkpoint()
        assert (clock.sleepers, clock.now(), replies) == (1, start, [])
        mock.advance(40)

    assert replies[0]["status"] == "SUCCESS"
