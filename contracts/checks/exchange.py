"""Reading an exchange with this contract's API: which operation a case is, what its body broke, its envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.spec.schema import STATUS, SUBMIT, operation_path, request_schema
from contracts.spec.validators import field_validator

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response


def is_contract_operation(case: Case[Any]) -> bool:
    """True for this contract's operations; the checks stay silent on any other schema in the process."""
    return case.operation.path in {operation_path(SUBMIT), operation_path(STATUS)}


def operation_id_of(case: Case[Any]) -> str:
    return SUBMIT if case.operation.path == operation_path(SUBMIT) else STATUS


def envelope_of(response: Response) -> dict[str, Any] | None:
    """The JSON object the answer carries, or None when it is not JSON or not an object."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def broken_fields(operation_id: str, body: dict[str, Any]) -> set[str]:
    """The request fields that break the contract: each present field checked alone, each absent required one."""
    schema = request_schema(operation_id)
    broken = {name for name in schema.get("required", ()) if name not in body}
    for name in schema["properties"]:
        if name in body and not field_validator(operation_id, name).is_valid(body[name]):
            broken.add(name)
    return broken
