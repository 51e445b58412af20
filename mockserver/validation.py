"""Request parsing and validation, derived from the contract: no range is written here."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from contracts import field_rules
from contracts.validators import field_validator


class InvalidJson(ValueError):
    """The body is not a JSON object the API can read; the message says why."""


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


def parse_object(raw: bytes) -> dict[str, Any]:
    """Decode a request body that must be a JSON object with only finite numbers."""
    if not raw.strip():
        raise InvalidJson("The request body is empty; expected a JSON object.")
    try:
        value = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float)
    except InvalidJson:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidJson(f"The request body is not valid JSON: {_short(exc)}") from None
    if not isinstance(value, dict):
        raise InvalidJson(f"The request body must be a JSON object, not {_json_type(value)}.")
    return value


def validate(operation_id: str, body: dict[str, Any]) -> list[FieldError]:
    """Every rule of the contract that `body` breaks, one entry each, in contract field order."""
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
    for rule in field_rules(operation_id):
        if rule.name not in filled and rule.has_default:
            filled[rule.name] = rule.default
    return filled


def _reject_constant(name: str) -> Any:
    raise InvalidJson(f"The request body contains {name}, which JSON does not allow.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidJson(f"The number {_short_text(text)} is too large to represent.")
    return value


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(exc: Exception) -> str:
    return _short_text(str(exc))


def _short_text(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
