"""One answer checked against the contract, outside a run: what the recording proxy prints as it passes."""

from __future__ import annotations

import functools
from typing import Any

import httpx
import schemathesis
from schemathesis.core.failures import FailureGroup

from contracts import checks, refusal_checks
from contracts.dialects import read_answer
from contracts.schema import load_schema, operation_path

# The checks that judge one answer alone; none sends a request.
ANSWER_CHECKS = (
    refusal_checks.documented_response_schema,
    refusal_checks.documented_status_code,
    *checks.ANSWER_CHECKS,
)


@functools.cache
def _schema() -> Any:
    return schemathesis.openapi.from_dict(load_schema())


def answer_violations(operation_id: str, body: Any, answer: httpx.Response) -> list[str]:
    """One line per contract rule `answer` breaks, for a request to `operation_id` with `body`.

    Usage:
        for line in answer_violations("getImagetoImage", {"batch": 1}, response):
            print(line)
    """
    case = _schema()[operation_path(operation_id)]["POST"].Case(body=body, media_type="application/json")
    # The contract run forgives a refusal in another dialect (its refusal table reports them); one answer
    # passing a proxy has no table, so the dialect is named here: it is what a client written to the docs trips on.
    violations = _other_dialect(answer)
    try:
        case.validate_response(answer, checks=list(ANSWER_CHECKS))
    except FailureGroup as group:
        violations += [_line(failure) for failure in group.exceptions]
    return violations


def _other_dialect(answer: httpx.Response) -> list[str]:
    try:
        body = answer.json()
    except ValueError:
        return []
    reading = read_answer(answer.status_code, body)
    if reading.kind != "rejected" or reading.dialect in ("contract", ""):
        return []
    named = f" naming {', '.join(reading.named)}" if reading.named else ""
    return [f"refused {reading.how}{named}, not in the contract's words (a 4xx envelope listing each field)"]


def _line(failure: Any) -> str:
    detail = str(getattr(failure, "message", "")).strip().splitlines()
    return f"{failure.title}: {detail[0]}" if detail else str(failure.title)
