"""A queued task's life after submit: follow the contract's link to the status operation and poll it.

The link (`GetTaskStatus` on the submit's 200 response) is read from `openapi.yaml`, so the request
that polls is built the way the contract says, not the way this module assumes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.spec.schema import STATUS, SUBMIT, operation

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

TERMINAL_STATUSES = frozenset({"SUCCESS", "FAILED"})
RUNNING_STATUS = "PENDING"
_BODY_POINTER = "$response.body#"


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


@dataclass
class Poll:
    """The last answer of a polled task, and how long it took to get there."""

    task_id: str
    request_body: dict[str, Any]
    status_code: int | None = None
    status: str | None = None
    polls: int = 0
    waited: float = 0.0
    error: str | None = None
    response: Response | None = field(default=None, repr=False)
    case: Case[Any] | None = field(default=None, repr=False)
    # The last answer was neither PENDING nor an end (status "DONE", none, not JSON): polling stopped there.
    left_the_lifecycle: bool = False

    @property
    def reached_terminal_state(self) -> bool:
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class PollSettings:
    deadline: float = 120.0
    interval: float = 2.0
    # Polls answered with these codes are retried (production's gateway may shed load); others end the poll.
    retry_codes: frozenset[int] = frozenset({429, 502, 503, 504})
    # A poll lost to the network is retried, but this many in a row end the poll: the server is gone.
    max_network_errors: int = 3


def poll_until_terminal(
    submit_case: Case[Any],
    submit_response: Response,
    settings: PollSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> Poll:
    """Poll the linked status operation with the submit's own credentials until SUCCESS/FAILED or the deadline.

    It stops early at an answer no task in the contract's lifecycle gives (`left_the_lifecycle`): a 200 whose
    status is neither PENDING nor an end, or that is no envelope at all.
    """
    body = submit_response.json()
    request_body = status_link().request_for(body)
    status_operation = submit_case.operation.schema.find_operation_by_id(STATUS)
    poll = Poll(task_id=str(body.get("task_id")), request_body=request_body)
    base_url = base_url_of(submit_case, submit_response)
    headers = credentials_of(submit_response)
    started = monotonic()
    network_errors = 0
    while True:
        case = status_operation.Case(body=request_body, media_type="application/json")
        poll.case = case
        poll.polls += 1
        try:
            response = case.call(base_url=base_url, headers=headers)
        except Exception as exc:  # reported in the poll, never raised: one lost poll must not end a run
            network_errors += 1
            poll.error = f"{type(exc).__name__}: {exc}"
            poll.waited = monotonic() - started
            if network_errors >= settings.max_network_errors or poll.waited + settings.interval > settings.deadline:
                return poll
            sleep(settings.interval)
            continue
        network_errors, poll.error = 0, None
        poll.response = response
        poll.status_code = response.status_code
        shed = response.status_code in settings.retry_codes
        # A shed poll says nothing about the task, whatever its body says.
        poll.status = None if shed else _status_of(response)
        poll.waited = monotonic() - started
        if poll.reached_terminal_state or (response.status_code != 200 and not shed):
            return poll
        if not shed and poll.status != RUNNING_STATUS:
            # The answer is already wrong, and no later one can make it right: waiting only delays the report.
            poll.left_the_lifecycle = True
            return poll
        wait = (_retry_after(response) if shed else None) or settings.interval
        if poll.waited + wait > settings.deadline:
            return poll
        sleep(wait)


def base_url_of(case: Case[Any], response: Response) -> str:
    """Where `case` was sent: its request URL without the operation path (keeps production's `/api/v1/studio`)."""
    url = str(response.request.url).split("?", 1)[0]
    return url.removesuffix(case.formatted_path).rstrip("/")


def credentials_of(response: Response) -> dict[str, str]:
    authorization = response.request.headers.get("Authorization")
    if isinstance(authorization, bytes):
        authorization = authorization.decode("latin-1")
    return {"Authorization": authorization} if authorization else {}


def _status_of(response: Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    status = body.get("status") if isinstance(body, dict) else None
    return status if isinstance(status, str) else None


def _retry_after(response: Response) -> float | None:
    values = response.headers.get("retry-after")
    if not values:
        return None
    try:
        return max(0.0, float(values[0]))
    except ValueError:
        return None
