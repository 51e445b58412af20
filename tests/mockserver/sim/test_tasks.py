"""The task store: bounded by count and by bytes, oldest forgotten first, constant work per submit."""

from __future__ import annotations

import pytest

from mockserver import VirtualClock
from mockserver.sim.tasks import Task, TaskStore


def result(prompt: str = "p") -> dict[str, object]:
    return {"status": "SUCCESS", "input": {"prompt": prompt}, "error": None}


def test_beyond_max_tasks_the_oldest_task_is_forgotten_and_reads_pending() -> None:
    clock = VirtualClock()
    store = TaskStore(clock, ttl=3600, max_tasks=3, max_bytes=1 << 20)
    for index in range(5):
        store.add(Task.of(f"t{index}", clock.now(), result()))

    assert [store.result_of(f"t{index}") is None for index in range(5)] == [True, True, False, False, False]
    assert store.evicted == 2


def test_beyond_max_bytes_the_oldest_tasks_are_forgotten() -> None:
    clock = VirtualClock()
    store = TaskStore(clock, ttl=3600, max_tasks=100, max_bytes=50_000)
    for index in range(10):
        store.add(Task.of(f"t{index}", clock.now(), result("x" * 10_000)))

    assert store.bytes <= 50_000 and len(store) == 4
    assert store.result_of("t9") == result("x" * 10_000)


def test_a_single_task_larger_than_max_bytes_is_still_kept() -> None:
    store = TaskStore(VirtualClock(), ttl=3600, max_tasks=100, max_bytes=100)
    store.add(Task.of("big", 0.0, result("x" * 1000)))

    assert len(store) == 1


def test_expired_tasks_are_swept_when_a_task_is_added() -> None:
    clock = VirtualClock()
    store = TaskStore(clock, ttl=60, max_tasks=1000, max_bytes=1 << 20)
    for index in range(100):
        store.add(Task.of(f"old{index}", clock.now(), result()))
    clock.advance(61)

    store.add(Task.of("new", clock.now(), result()))

    assert len(store) == 1


@pytest.mark.parametrize("status", ["SUCCESS", "FAILED"])
def test_a_task_keeps_its_answer_encoded_and_lists_its_state(status: str) -> None:
    clock = VirtualClock()
    store = TaskStore(clock, ttl=60, max_tasks=1000, max_bytes=1 << 20)
    store.add(Task.of("t", clock.now() + 10, {**result(), "status": status}))

    assert isinstance(next(iter(store._tasks.values())).result, bytes)
    assert store.describe()[0]["state"] == "PENDING"
    clock.advance(10)
    assert store.describe()[0]["state"] == status


def test_a_lost_task_is_listed_as_lost_and_never_answers() -> None:
    clock = VirtualClock()
    store = TaskStore(clock, ttl=60, max_tasks=1000, max_bytes=1 << 20)
    store.add(Task.lost("t", clock.now() + 10))

    assert store.describe() == [{"id": "t", "ready_at": None, "state": "task_lost"}]
    clock.advance(10)
    assert store.answer_of("t") is None and store.describe()[0]["state"] == "task_lost"
    clock.advance(60)
    assert store.describe() == []


def test_an_answer_with_an_integer_past_64_bits_reads_back_as_that_integer() -> None:
    # orjson reads 10**30 as the float 1e30; only the standard library wrote it, and only it reads it back exactly.
    clock = VirtualClock()
    store = TaskStore(clock, ttl=3600, max_tasks=10, max_bytes=1 << 20)
    answer = {"status": "SUCCESS", "input": {"seed": 10**30, "guidance_scale": 7.5}}
    store.add(Task.of("wide", clock.now(), answer))
    store.add(Task.of("narrow", clock.now(), {"status": "SUCCESS", "input": {"seed": 7}}))

    assert store.result_of("wide") == answer
    assert type(store.result_of("wide")["input"]["seed"]) is int  # type: ignore[index]
    assert store.result_of("narrow") == {"status": "SUCCESS", "input": {"seed": 7}}
