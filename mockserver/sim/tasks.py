"""Queued tasks. A task's state is derived on read from the clock: no timers, no background threads."""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson

from mockserver.behaviour.clock import Clock
from mockserver.wire import envelope

# What one task costs beyond its encoded answer (id, times, bookkeeping), for the byte bound.
_TASK_OVERHEAD = 200
# The state of a task the `task_lost` fault lost: the admin API lists it, a poll reads PENDING forever.
LOST = "task_lost"


@dataclass(frozen=True, slots=True)
class Task:
    """A queued generation: its final envelope exists from the start and is revealed at `ready_at`.

    The envelope is kept encoded: it echoes the request, which may be up to the body limit, and bytes are
    both smaller than the parsed objects and exactly countable.
    """

    id: str
    ready_at: float
    result: bytes
    status: str
    # The HTTP code a poll answers once it is done: 500 for a task whose worker crashed.
    code: int = 200
    # The answer holds an integer past 64 bits, which orjson neither writes nor reads back as an integer.
    wide: bool = False

    @classmethod
    def of(cls, task_id: str, ready_at: float, result: dict[str, Any], *, code: int = 200) -> Task:
        try:
            encoded, wide = orjson.dumps(result), False
        except TypeError:
            encoded, wide = envelope.encode(result), True
        # A copy of exactly its length: orjson's own bytes keep the spare room of its write buffer (kilobytes).
        return cls(task_id, ready_at, bytes(memoryview(encoded)), result["status"], code, wide)

    @classmethod
    def lost(cls, task_id: str, ready_at: float) -> Task:
        """A task the queue lost: it has no answer; it is kept only so the admin API can list it."""
        return cls(task_id, ready_at, b"", LOST)

    @property
    def size(self) -> int:
        return len(self.result) + _TASK_OVERHEAD


class TaskStore:
    """Tasks by id. A task reads PENDING until `ready_at`, then its result until the TTL runs out.

    Production cannot tell an unknown id from an expired or running one (Celery reports all three
    as PENDING), so `result_of` answers None for each of them. The store holds at most `max_tasks`
    tasks and `max_bytes` of answers: beyond either, the oldest are forgotten (and read PENDING).
    Adding and looking up are O(1) (amortised).
    """

    def __init__(self, clock: Clock, ttl: float, *, max_tasks: int, max_bytes: int) -> None:
        self._clock = clock
        self.ttl = ttl
        self.max_tasks = max_tasks
        self.max_bytes = max_bytes
        # Oldest first, so forgetting the oldest is popping the front.
        self._tasks: OrderedDict[str, Task] = OrderedDict()
        self._bytes = 0
        # Tasks forgotten to stay within the bounds (not by expiry), since the last clear.
        self.evicted = 0

    def add(self, task: Task) -> None:
        self._drop_expired_front()
        self._discard(task.id)
        self._tasks[task.id] = task
        self._bytes += task.size
        while len(self._tasks) > self.max_tasks or (self._bytes > self.max_bytes and len(self._tasks) > 1):
            self._discard(next(iter(self._tasks)))
            self.evicted += 1

    def answer_of(self, task_id: str) -> tuple[int, dict[str, Any]] | None:
        """The stored (HTTP code, result) if the task is done and not yet expired, else None (reads PENDING)."""
        task = self._tasks.get(task_id)
        if task is None:
            return None
        now = self._clock.now()
        if now < task.ready_at:
            return None
        if now >= task.ready_at + self.ttl:
            self._discard(task_id)
            return None
        if task.status == LOST:
            return None
        result: dict[str, Any] = json.loads(task.result) if task.wide else orjson.loads(task.result)
        return task.code, result

    def result_of(self, task_id: str) -> dict[str, Any] | None:
        """The stored result if the task is done and not yet expired, else None (reads PENDING)."""
        answer = self.answer_of(task_id)
        return None if answer is None else answer[1]

    def describe(self) -> list[dict[str, Any]]:
        """Every live task with its state as a client would read it now, except a lost one: `task_lost`
        (its `ready_at` None: it never finishes, though it is listed only as long as its result would be)."""
        now = self._clock.now()
        return [_described(task, now) for task in self._tasks.values() if now < task.ready_at + self.ttl]

    @property
    def bytes(self) -> int:
        """What the stored tasks weigh, as the `max_bytes` bound counts it."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._tasks)

    def clear(self) -> None:
        self._tasks.clear()
        self._bytes = 0
        self.evicted = 0

    def _discard(self, task_id: str) -> None:
        task = self._tasks.pop(task_id, None)
        if task is not None:
            self._bytes -= task.size

    def _drop_expired_front(self) -> None:
        # Tasks expire roughly in the order they were added; sweeping from the front stays O(1) amortised.
        # One long task at the front can shelter expired ones behind it; the bounds still hold.
        cutoff = self._clock.now() - self.ttl
        while self._tasks:
            oldest = next(iter(self._tasks.values()))
            if oldest.ready_at > cutoff:
                return
            self._discard(oldest.id)


def _described(task: Task, now: float) -> dict[str, Any]:
    if task.status == LOST:
        return {"id": task.id, "ready_at": None, "state": LOST}
    return {"id": task.id, "ready_at": task.ready_at, "state": "PENDING" if now < task.ready_at else task.status}
