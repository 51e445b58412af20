"""What a run over a schema tells the contract's checks and hooks, which schemathesis makes global.

A run registers one `Run` for its schema with `run_over`: the spend guard, who polls queued tasks, who hears of
refusals, and which follow-up probes were already sent. The entry goes when the run ends. Outside any run (a
user's own `schema.parametrize()` tests), `run_of` keeps a plain `Run` for as long as the schema lives.

Usage:
    with run_over(schema, Run(guard=SpendGuard("safe"))):
        ...  # schemathesis calls; every check and hook finds this run through the case's schema
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

# Told of each refusal: (operation, the fields the request broke, how it was refused).
Recorder = Callable[[str, tuple[str, ...], str], None]


class Guard(Protocol):
    """What the schemathesis hooks ask of a run's guard (spend_guard.SpendGuard is the one there is)."""

    def admits(self, case: Case[Any]) -> bool: ...

    def before_send(self, case: Case[Any]) -> None: ...

    def after_send(self, case: Case[Any], response: Response) -> None: ...


@dataclass
class Run:
    """One run's listeners and memory; None: nobody listens, and the checks act on their own."""

    guard: Guard | None = None
    watch_task: Callable[[Case[Any], Response], None] | None = None
    record_refusal: Recorder | None = None
    # (operation, check) pairs whose follow-up probe was sent: each is sent once per operation per run.
    probed: set[tuple[str, str]] = field(default_factory=set)

    def first_time(self, operation: str, check: str) -> bool:
        with _lock:
            if (operation, check) in self.probed:
                return False
            self.probed.add((operation, check))
            return True


_RUNS: dict[int, Run] = {}
_lock = threading.Lock()


@contextmanager
def run_over(schema: Any, run: Run) -> Iterator[Run]:
    """`run` is the run over `schema` until the block ends."""
    with _lock:
        outer = _RUNS.get(id(schema))
        _RUNS[id(schema)] = run
    try:
        yield run
    finally:
        with _lock:
            if outer is None:
                _RUNS.pop(id(schema), None)
            else:
                _RUNS[id(schema)] = outer


def run_of(schema: Any) -> Run:
    """The run over `schema`; outside any, one that lives as long as the schema (its id is then free again)."""
    with _lock:
        run = _RUNS.get(id(schema))
        if run is None:
            run = _RUNS[id(schema)] = Run()
            weakref.finalize(schema, _RUNS.pop, id(schema), None)
        return run
