"""One answer checked against the contract, outside a run: what the recording proxy prints as it passes."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from contracts.client.extra import contract_extra_missing

try:  # the `contract` extra (contracts/client/extra.py)
    import requests
    import schemathesis
    from requests.structures import CaseInsensitiveDict
    from schemathesis.core.failures import FailureGroup
except ModuleNotFoundError as missing:
    raise contract_extra_missing(missing, __name__) from None

from contracts.checks import refusal_checks, response_checks
from contracts.spec.dialects import read_answer
from contracts.spec.schema import STATUS, SUBMIT, load_schema, operation_path

# The checks that judge one answer alone; none sends a request.
ANSWER_CHECKS = (
    refusal_checks.documented_response_schema,
    refusal_checks.documented_status_code,
    *response_checks.ANSWER_CHECKS,
)


@functools.cache
def _schema() -> Any:
    return schemathesis.openapi.from_dict(load_schema())


@functools.cache
def _operation(operation_id: str) -> Any:
    # Looking an operation up in the schema costs half a millisecond: once per operation, not per answer.
    return _schema()[operation_path(operation_id)]["POST"]


def warm_up_checks() -> None:
    """Load what the checks need (schemathesis's view of the contract) now rather than on the first answer."""
    for operation_id in (SUBMIT, STATUS):
        _operation(operation_id)


def answer_violations(
    operation_id: str, body: Any, status_code: int, headers: Mapping[str, str], content: bytes
) -> list[str]:
    """One line per contract rule an answer breaks, for a request to `operation_id` with `body`.

    Usage:
        for line in answer_violations("getImagetoImage", {"batch": 1}, 422, response.headers, response.content):
            print(line)
    """
    operation = _operation(operation_id)
    # A fixed case id: schemathesis would draw a random one for each case, a sizeable part of a check's cost.
    case = schemathesis.Case(
        operation, "POST", operation.path, id="recorded", body=body, media_type="application/json",
        headers=CaseInsensitiveDict(),
    )  # fmt: skip
    answer = schemathesis.Response(
        status_code=status_code,
        headers={name: [value] for name, value in headers.items()},
        content=content,
        request=_request(operation.path, body),
        elapsed=0.0,
        verify=True,
    )
    # The contract run forgives a refusal in another dialect (its refusal table reports them); one answer
    # passing a proxy has no table, so the dialect is named here: it is what a client written to the docs trips on.
    violations = _other_dialect(status_code, answer)
    try:
        case.validate_response(answer, checks=list(ANSWER_CHECKS))
    except FailureGroup as group:
        violations += [_line(failure) for failure in group.exceptions]
    return violations


def _request(path: str, body: Any) -> requests.PreparedRequest:
    # What a failure message shows of the request; built by hand, as `prepare()` costs more than the response_checks.
    request = requests.PreparedRequest()
    request.method, request.url = "POST", f"http://recorded{path}"
    request.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
    request.body = None if isinstance(body, str | type(None)) else json.dumps(body)
    return request


def _other_dialect(status_code: int, answer: schemathesis.Response) -> list[str]:
    try:
        body = answer.json()
    except (ValueError, RecursionError):
        return []
    reading = read_answer(status_code, body)
    if reading.kind != "rejected" or reading.dialect in ("contract", ""):
        return []
    named = f" naming {', '.join(reading.named)}" if reading.named else ""
    return [f"refused {reading.how}{named}, not in the contract's words (a 4xx envelope listing each field)"]


def _line(failure: Any) -> str:
    detail = str(getattr(failure, "message", "")).strip().splitlines()
    return f"{failure.title}: {detail[0]}" if detail else str(failure.title)
