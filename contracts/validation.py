"""One answer checked against the contract, outside a run: what the recording proxy prints as it passes."""

from __future__ import annotations

import functools
from typing import Any

import httpx
import schemathesis
from schemathesis.core.failures import FailureGroup

from contracts import checks, refusal_checks
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
    try:
        case.validate_response(answer, checks=list(ANSWER_CHECKS))
    except FailureGroup as group:
        return [_line(failure) for failure in group.exceptions]
    return []


def _line(failure: Any) -> str:
    detail = str(getattr(failure, "message", "")).strip().splitlines()
    return f"{failure.title}: {detail[0]}" if detail else str(failure.title)
