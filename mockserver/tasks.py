"""Queued tasks. A task's state is derived on read from the clock: no timers, no background threads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mockserver.clock import Clock


@dataclass(frozen=True)
class Task:
    """A queued generation: its final envelope exists from the start and is revealed at `ready_at`."""

    id: str
    ready_at: float
    result: dict[str, Any]


class TaskStore:
    """Tasks by id. A task reads PENDING until `ready_at`, then its result until the TTL runs out.

    Production cannot tell an unknown id from an expired or running one (Celery reports all three
    as PENDING), so `result_of` answers None for each of them.
    """

    def __init__(self, clock: Clock, ttl: float) -> None:
        self._clock = clock
        self.ttl = ttl
        self._tasks: dict[str, Task] = {}

    def add(self, task: Task) -> None:
        self._drop_expired()
        self._tasks[task.id] = task

    def result_of(self, task_id: str) -> dict[str, Any] | None:
        """The stored result if the task is done and not yet expired, else None (reads PENDING)."""
        task = self._tasks.get(task_id)
        if task is None:
            return None
        now = self._clock.now()
        if now < task.ready_at:
            return None
        if now >= task.ready_at + self.ttl:
            del self._tasks[task_id]
            return None
        return task.result

    def describe(self) -> list[dict[str, Any]]:
        """Every live task with its state as a client would read it now."""
        now = self._clock.now()
        return [
            {
                "id": task.id,
                "ready_at": task.ready_at,
                "state": "PENDING" if now < task.ready_at else task.result["status"],
            }
            for task in self._tasks.values()
            if now < task.ready_at + self.ttl
        ]

    def __len__(self) -> int:
        return len(self._tasks)

    def clear(self) -> None:
        self._tasks.clear()

    def _drop_expired(self) -> None:
        # Bounds memory on a long-running server without a sweeper thread.
        cutoff = self._clock.now() - self.ttl
        for task_id in [t.id for t in self._tasks.values() if t.ready_at <= cutoff]:
            del self._tasks[task_id]
