"""A queued task's life after submit: the one loop that polls it, used by `contract`, `probe` and `diff`.

The request that polls is built from the contract's link (`GetTaskStatus` on the submit's 200 response), not
assumed. What ends the loop:
- an answer with an ending status (`SUCCESS`, `FAILED`: `contracts.spec.statuses`), whatever its HTTP code;
- any other answer that is not a 200 and not a gateway's (a refused token, a bare 500 of a crashed job);
- a 200 whose status is neither PENDING nor an end, or no envelope at all: it has left the task's lifecycle,
  and no later answer can make it right (`left_the_lifecycle`);
- the deadline (`timed_out`), or `max_network_errors` polls in a row lost to the network (`error`).
A gateway's answer (429, 502, 503, 504: `GATEWAY_CODES`) is polled again, after its `Retry-After` if it gives
one: a poll is a read, and the gateway's answer says nothing of the task. A client of production does the
same, and a diff that stopped there would report a hiccup of the gateway as a difference of the API.

Usage:
    poll = follow_task(Poll(task_id), ask=lambda: client.post(path, json=request), read=httpx_answer,
                       settings=PollSettings(deadline=300, interval=2))
    poll.reached_terminal_state, poll.response
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from contracts.spec.schema import STATUS, SUBMIT, operation
from contracts.spec.statuses import GATEWAY_CODES, running_status, status_of, terminal_statuses

_BODY_POINTER = "$response.body#"
R = TypeVar("R")
P = TypeVar("P", bound="Poll[Any]")


@dataclass(frozen=True)
class Link:
    operation_id: str
    request_body: Mapping[str, str]

    def request_for(self, response_body: Mapping[str, Any]) -> dict[str, Any]:
        """The linked operation's request body, with each `$response.body#/...` expression resolved."""
        return {name: _resolve(expression, response_body) for name, expression in self.request_body.items()}


@functools.cache
def status_link() -> Link:
    """The contract's link from a queued submit to the task-status operation."""
    for link in operation(SUBMIT)["responses"]["200"].get("links", {}).values():
        if link.get("operationId") == STATUS:
            return Link(operation_id=STATUS, request_body=dict(link["requestBody"]))
    raise KeyError(f"the contract has no link from {SUBMIT} to {STATUS}")


def _resolve(expression: str, body: Mapping[str, Any]) -> Any:
    if not expression.startswith(_BODY_POINTER):
        raise ValueError(f"link expression {expression!r} is not a $response.body pointer")
    value: Any = body
    for part in expression.removeprefix(_BODY_POINTER).strip("/").split("/"):
        value = value[part.replace("~1", "/").replace("~0", "~")]
    return value


@dataclass(frozen=True)
class PollSettings:
    deadline: float = 120.0
    interval: float = 2.0
    # Polled again when answered with these codes; any other code but 200 ends the poll.
    retry_codes: frozenset[int] = GATEWAY_CODES
    # A poll lost to the network is retried, but this many in a row end the poll: the server is gone.
    max_network_errors: int = 3


@dataclass(frozen=True)
class PollAnswer:
    """What the loop reads in one answer: its code, its JSON (None if not JSON), and `Retry-After` in seconds."""

    status_code: int
    body: Any
    retry_after: float | None = None


@dataclass
class Poll(Generic[R]):
    """The last answer of a polled task (`response`, as the transport gave it) and how it got there."""

    task_id: str
    status_code: int | None = None
    status: str | None = None  # None for a gateway's answer: it says nothing of the task
    polls: int = 0
    waited: float = 0.0
    error: str | None = None  # the last poll was lost to the network
    response: R | None = field(default=None, repr=False)
    left_the_lifecycle: bool = False
    timed_out: bool = False  # the deadline came first: the last answer was PENDING, a gateway's, or lost

    @property
    def reached_terminal_state(self) -> bool:
        return self.status in terminal_statuses()


def follow_task(
    poll: P,
    ask: Callable[[], R],
    read: Callable[[R], PollAnswer],
    settings: PollSettings,
    *,
    sleep: Callable[[float], object] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    before_each: Callable[[P], object] | None = None,
) -> P:
    """Poll with `ask` (one request; it may raise) until the task's end or the deadline; `poll` holds the result.

    Time waited counts the sleeps asked for, or the clock if it ran further (slow answers): a `sleep` that does
    not wait (a test's, or a virtual clock's `advance`) still reaches the deadline, and slow answers cannot
    stretch it. `before_each` hears of each poll before it is sent (progress lines).
    """
    started, slept, network_errors = monotonic(), 0.0, 0
    while True:
        if before_each is not None:
            before_each(poll)
        poll.polls += 1
        wait = settings.interval
        try:
            response = ask()
        except Exception as exc:  # reported in the poll, never raised: one lost poll must not end a run
            network_errors += 1
            poll.error = f"{type(exc).__name__}: {exc}"
            if network_errors >= settings.max_network_errors:
                poll.waited = max(slept, monotonic() - started)
                return poll
        else:
            network_errors, poll.error = 0, None
            answer = read(response)
            poll.response, poll.status_code = response, answer.status_code
            shed = answer.status_code in settings.retry_codes
            poll.status = None if shed else status_of(answer.body)
            if not shed and (poll.reached_terminal_state or answer.status_code != 200):
                poll.waited = max(slept, monotonic() - started)
                return poll
            if not shed and poll.status != running_status():
                poll.left_the_lifecycle = True
                poll.waited = max(slept, monotonic() - started)
                return poll
            wait = (answer.retry_after if shed else None) or settings.interval
        poll.waited = max(slept, monotonic() - started)
        if poll.waited + wait > settings.deadline:
            poll.timed_out = True
            return poll
        sleep(wait)
        slept += wait
        poll.waited = max(slept, monotonic() - started)


def httpx_answer(response: httpx.Response) -> PollAnswer:
    """An httpx answer as the loop reads it."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return PollAnswer(response.status_code, body, retry_after_seconds(response.headers.get("retry-after")))


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` in delay-seconds; None when absent or an HTTP-date (it means nothing on a virtual clock)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
