"""A failure as a contract run reports it: the answer it is about, that answer's code, and how to reproduce it.

Every string is redacted here, once, so nothing built from a failure can carry the token.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from contracts.checks.refusal_checks import reading_of
from contracts.checks.spend_guard import starts_a_job
from contracts.client.curl import FollowupFailed, case_curl_line, excerpt
from contracts.client.target import Target
from contracts.run.outcome import FailureRecord
from contracts.spec.schema import SUBMIT, operation_path

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.failures import Failure
    from schemathesis.core.transport import Response


def failure_record(
    case: Case[Any],
    check: str,
    title: str,
    message: str,
    response: Response | None,
    target: Target,
    phase: str,
    *,
    task_started: bool = False,
) -> FailureRecord:
    """A failure about `response`, the answer to `case`; `task_started` when `case` was queued as a task."""
    return FailureRecord(
        operation=case.operation.label,
        check=check,
        title=target.redact(str(title)),
        message=target.redact(str(message)),
        curl=target.redact(case_curl_line(case, target.base_url, "token")),
        status_code=response.status_code if response is not None else None,
        response_excerpt=target.redact(excerpt(response)),
        phase=phase,
        costs_a_job=starts_a_job(case) or task_started or _taken(case, response),
    )


def _taken(case: Case[Any], response: Response | None) -> bool:
    # A submit the API took although the contract rejects it (production reads "2" as 2) ran a job, and will again.
    if response is None or case.operation.path != operation_path(SUBMIT):
        return False
    return reading_of(response).kind in ("accepted", "queued")


def check_failure_record(
    case: Case[Any], check: str, failure: Failure, response: Response | None, target: Target, phase: str
) -> FailureRecord:
    """A schemathesis check's failure on the answer to `case`, or on a request the check sent itself."""
    followup = getattr(failure, "exception", None)
    if isinstance(followup, FollowupFailed):
        return FailureRecord(
            operation=case.operation.label,
            check=check,
            title=target.redact(str(failure.title)),
            message=target.redact(followup.reason),
            curl=target.redact(followup.curl),
            status_code=followup.status_code,
            response_excerpt=target.redact(followup.excerpt),
            phase=phase,
        )
    record = failure_record(case, check, failure.title, failure.message, response, target, phase)
    return dataclasses.replace(record, sameness=_sameness(failure))


def _sameness(failure: Any) -> str:
    # A schema violation quotes the answer, which differs case by case; where it broke the schema does not.
    schema_path = getattr(failure, "schema_path", None)
    if schema_path is None:
        return ""
    return f"{'/'.join(map(str, schema_path))} at /{'/'.join(map(str, getattr(failure, 'instance_path', ())))}"
