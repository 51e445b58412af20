"""Request validation, derived from the contract: no range is written here."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from contracts.spec.schema import field_rules
from contracts.spec.validators import field_validator, request_validator


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def validate(operation_id: str, body: dict[str, Any]) -> list[FieldError]:
    """Every rule of the contract that `body` breaks, one entry each, in contract field order."""
    # Most bodies are valid: one pass of the compiled whole-body schema settles those; only a body it
    # refuses is taken apart field by field, to name every broken rule.
    if request_validator(operation_id).is_valid(body):
        return []
    errors: list[FieldError] = []
    for rule in field_rules(operation_id):
        if rule.name not in body:
            if rule.required:
                errors.append(FieldError(rule.name, f"Field {rule.name!r} is required."))
            continue
        validator = field_validator(operation_id, rule.name)
        errors.extend(
            FieldError(rule.name, _message(rule.pattern_message, error))
            for error in validator.iter_errors(body[rule.name])
        )
    return errors


def _message(pattern_message: str | None, error: jsonschema_rs.ValidationError) -> str:
    # A regex in an error message helps nobody; the contract words pattern failures itself.
    if pattern_message and type(error.kind).__name__ == "Pattern":
        return f"{json.dumps(error.instance)} {pattern_message}"
    return str(error.message)


def with_defaults(operation_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body with the contract's defaults filled in for absent optional fields."""
    filled = dict(body)
    for name, default in _defaults(operation_id):
        if name not in filled:
            filled[name] = default
    return filled


@functools.cache
def _defaults(operation_id: str) -> tuple[tuple[str, Any], ...]:
    return tuple((rule.name, rule.default) for rule in field_rules(operation_id) if rule.has_default)
