"""Polling the task a schemathesis case queued: the contract run's and its checks' way into the one loop.

The status request is the contract's link resolved against the submit's answer, sent as a schemathesis case to
where the submit went and with its own credentials, so its answer can be validated like any other.

Usage:
    poll = poll_until_terminal(submit_case, submit_response, PollSettings(deadline=300))
    if poll.reached_terminal_state:
        poll.case.validate_response(poll.response)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.client.polling import Poll, PollAnswer, PollSettings, follow_task, retry_after_seconds, status_link
from contracts.spec.credentials import AUTHORIZATION
from contracts.spec.schema import STATUS

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response


@dataclass
class CasePoll(Poll["Response"]):
    """A polled task, and the status case that polled it (to validate its last answer against the contract)."""

    case: Case[Any] | None = field(default=None, repr=False)


def poll_until_terminal(
    submit_case: Case[Any],
    submit_response: Response,
    settings: PollSettings,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> CasePoll:
    """Poll the linked status operation with the submit's own credentials until SUCCESS/FAILED or the deadline,
    as `contracts.client.polling.follow_task` does."""
    body = submit_response.json()
    status_operation = submit_case.operation.schema.find_operation_by_id(STATUS)
    case = status_operation.Case(body=status_link().request_for(body), media_type="application/json")
    base_url, headers = base_url_of(submit_case, submit_response), credentials_of(submit_response)
    poll = CasePoll(task_id=str(body.get("task_id")), case=case)

    def ask() -> Response:
        answer: Response = case.call(base_url=base_url, headers=headers)
        return answer

    return follow_task(poll, ask, _answer_of, settings, sleep=sleep, monotonic=monotonic)


def base_url_of(case: Case[Any], response: Response) -> str:
    """Where `case` was sent: its request URL without the operation path (keeps production's `/api/v1/studio`)."""
    url = str(response.request.url).split("?", 1)[0]
    return url.removesuffix(case.formatted_path).rstrip("/")


def credentials_of(response: Response) -> dict[str, str]:
    """The credentials the request behind `response` carried, to send again as they were."""
    authorization = response.request.headers.get(AUTHORIZATION)
    if isinstance(authorization, bytes):
        authorization = authorization.decode("latin-1")
    return {AUTHORIZATION: authorization} if authorization else {}


def _answer_of(response: Response) -> PollAnswer:
    try:
        body = response.json()
    except ValueError:
        body = None
    retry_after = response.headers.get("retry-after")
    return PollAnswer(response.status_code, body, retry_after_seconds(retry_after[0] if retry_after else None))
