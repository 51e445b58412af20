"""A task's statuses, read from the contract, and what one answer to a poll says about the task.

`PENDING` while a task runs, then `SUCCESS` or `FAILED`: the `status` constants of the envelopes the status
operation answers with (`openapi.yaml`). A new ending added there (say `CANCELLED`) is an end everywhere:
in the polling loop, the diff, the replay and the fake's verdicts.

Usage:
    if status_of(body) in terminal_statuses(): ...
    shows_end(poll.status_code, poll.body)   # this poll saw its task end
"""

from __future__ import annotations

import functools
from typing import Any

from contracts.spec.schema import STATUS, component, operation

# The envelope of a task still running (or of an id the server does not know: production cannot tell them apart).
_RUNNING_ENVELOPE = "PendingStatusEnvelope"

# Codes the gateway answers for itself, whatever the task's state: load shed (429, 503) or no answer from the
# API behind it in time (502, 504). A poll is a read, so asking again is safe; such an answer says nothing of the
# task, and a client that waits for the task polls on (README "Check an API against the contract").
GATEWAY_CODES = frozenset({429, 502, 503, 504})


def _status_const(schema: dict[str, Any]) -> str:
    status: str = schema["properties"]["status"]["const"]
    return status


@functools.cache
def running_status() -> str:
    """The status of a task that has not ended: `PENDING`."""
    return _status_const(component(_RUNNING_ENVELOPE))


@functools.cache
def task_statuses() -> tuple[str, ...]:
    """Every status a poll's 200 answer may carry, in the contract's order."""
    answers = operation(STATUS)["responses"]["200"]["content"]["application/json"]["schema"]["oneOf"]
    return tuple(_status_const(component(answer["$ref"].rsplit("/", 1)[-1])) for answer in answers)


@functools.cache
def terminal_statuses() -> frozenset[str]:
    """The statuses a task ends with: every status a poll may read but the running one (`SUCCESS`, `FAILED`)."""
    return frozenset(task_statuses()) - {running_status()}


def status_of(body: Any) -> str | None:
    """The envelope's `status`, or None when `body` is no envelope with a string status."""
    status = body.get("status") if isinstance(body, dict) else None
    return status if isinstance(status, str) else None


def is_terminal(body: Any) -> bool:
    """Whether `body` is an envelope of a task that ended."""
    return status_of(body) in terminal_statuses()


def is_queued(body: Any) -> bool:
    """Whether `body` answers a submit with a queued task: the running status and the task's id."""
    return status_of(body) == running_status() and isinstance(body.get("task_id"), str)


def shows_end(status_code: int, body: Any) -> bool:
    """Whether a poll answered `status_code` with `body` saw its task end.

    An ending status does, as does a 5xx the gateway did not make (a failed job re-raised, or a crashed worker,
    reads as a bare 500). A gateway code (GATEWAY_CODES) never does, whatever its body says.
    """
    if status_code in GATEWAY_CODES:
        return False
    return status_code >= 500 or is_terminal(body)
