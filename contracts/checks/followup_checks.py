"""The contract's checks that send requests of their own: a queued task's life, auth, complete 422s.

Each extra request is one the contract says must be rejected, or a status read, so none starts a job.

Registered with schemathesis on import, like those in `contracts.checks`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.client.extra import contract_extra_missing

try:  # the `contract` extra (contracts/client/extra.py)
    import schemathesis
except ModuleNotFoundError as missing:
    raise contract_extra_missing(missing, __name__) from None

from contracts.checks.exchange import broken_fields, envelope_of, is_contract_operation, operation_id_of
from contracts.checks.refusal_checks import reading_of, record_refusal, spoken_otherwise
from contracts.checks.run_registry import run_of
from contracts.checks.spend_guard import decoded_body, is_valid_request, poisoned
from contracts.client.case_polling import base_url_of, credentials_of, poll_until_terminal
from contracts.client.curl import FollowupFailed
from contracts.client.polling import Poll, PollSettings
from contracts.client.target import MADE_UP_TOKEN
from contracts.spec.credentials import bearer
from contracts.spec.schema import SUBMIT, operation_path
from contracts.spec.statuses import GATEWAY_CODES, is_queued

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

POLL_SETTINGS = PollSettings()


@schemathesis.check
def queued_task_reaches_terminal_state(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """A queued submit, followed through the contract's link to the status operation, ends SUCCESS or FAILED."""
    if case.operation.path != operation_path(SUBMIT) or response.status_code != 200:
        return None
    body = envelope_of(response)
    if not is_queued(body):
        return None
    # A run that polls its tasks itself (all at once, at the end) watches them; otherwise the check polls inline.
    watcher = run_of(case.operation.schema).watch_task
    if watcher is not None:
        watcher(case, response)
        return None
    poll = poll_until_terminal(case, response, POLL_SETTINGS)
    assert poll.reached_terminal_state, describe_unfinished(poll)
    return None


def describe_unfinished(poll: Poll[Any]) -> str:
    """Why a polled task has no end to judge: polling failed, an answer left the lifecycle, or time ran out."""
    if poll.error is not None:
        return f"polling task {poll.task_id} failed: {poll.error}"
    if poll.left_the_lifecycle:
        status = f"status {poll.status!r}" if poll.status is not None else "no status"
        return (
            f"task {poll.task_id} answered HTTP {poll.status_code} with {status}, neither PENDING nor an end; "
            "polling stopped at that answer"
        )
    if poll.status is None and poll.status_code in GATEWAY_CODES:
        last = f"answered by the gateway (HTTP {poll.status_code})"
        return f"task {poll.task_id} still {last} after {poll.waited:.1f} s of polling"
    return f"task {poll.task_id} still {poll.status or 'unreadable'} after {poll.waited:.1f} s of polling"


def _first_time(case: Case[Any], check: str) -> bool:
    return run_of(case.operation.schema).first_time(case.operation.label, check)


@schemathesis.check
def auth_is_enforced(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """Once per operation: the same request without credentials, and with a made-up token, is refused.

    The contract says 401. A refusal in the backend's dialect also counts (403 from FastAPI's HTTPBearer, or
    500 `('Invalid API Key',)`): it is recorded as such, like any refusal (contracts.checks.refusal_checks).
    The probe body is always one the contract rejects, so a server that ignores auth still starts no job.
    """
    if not is_contract_operation(case) or response.status_code == 401 or not credentials_of(response):
        return None
    if not _first_time(case, "auth"):
        return None
    body = decoded_body(case.body)
    if body is None:
        body = {}  # the contract rejects an empty object too, and it reads better than `null` in a curl line
    if case.operation.path == operation_path(SUBMIT) and is_valid_request(SUBMIT, body) and isinstance(body, dict):
        body = poisoned(body)
    base_url = base_url_of(case, response)
    for label, headers in (("no Authorization header", {}), ("a made-up token", bearer(MADE_UP_TOKEN))):
        probe = case.operation.Case(body=body, media_type="application/json")
        answer = probe.call(base_url=base_url, headers=headers)
        reading = reading_of(answer)
        if answer.status_code != 401 and not reading.refuses_credentials:
            raise FollowupFailed(
                f"a request with {label} got HTTP {answer.status_code}, expected 401",
                request=probe,
                headers=headers,
                base_url=base_url,
                answer=answer,
            )
        if answer.status_code != 401:
            record_refusal(case, ("Authorization",), reading.how)
    return None


@schemathesis.check
def validation_lists_every_broken_field(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """A 422 names every field the request broke, not only the first (production's pydantic lists them all).

    Generated negative cases mostly break one field, so once per operation an empty object is also sent:
    its 422 must name every required field.
    """
    # A 422 in another dialect (FastAPI's `detail`) is judged by contracts.checks.refusal_checks instead.
    spoken = is_contract_operation(case) and response.status_code == 422 and not spoken_otherwise(response)
    body = envelope_of(response) if spoken else None
    sent = decoded_body(case.body)
    if body is None or not isinstance(sent, dict):
        return None
    missed = _unnamed(body, broken_fields(operation_id_of(case), sent))
    assert not missed, f"the 422 for the request does not name every broken field: {missed} missing from error_data"
    if _first_time(case, "validation"):
        probe = case.operation.Case(body={}, media_type="application/json")
        base_url, headers = base_url_of(case, response), credentials_of(response)
        answer = probe.call(base_url=base_url, headers=headers)
        if answer.status_code == 422 and (answered := envelope_of(answer)) is not None:
            missed = _unnamed(answered, broken_fields(operation_id_of(case), {}))
            if missed:
                raise FollowupFailed(
                    f"the 422 for {{}} does not name every broken field: {missed} missing from error_data",
                    request=probe,
                    headers=headers,
                    base_url=base_url,
                    answer=answer,
                )
    return None


def _unnamed(envelope: dict[str, Any], broken: set[str]) -> list[str]:
    entries = envelope.get("error_data")
    named = {entry.get("field") for entry in entries if isinstance(entry, dict)} if isinstance(entries, list) else set()
    return sorted(broken - named)
