"""The probe's cases: every documented bound of the submit request, the value on it and just past it; and each
required field of the status request, left out and of the wrong type.

Everything here is read from the contract: bounds, enums, the pattern, the required set, the example
body. A case is checked against the contract's own JSON Schema when it is built, so a mistake in
this module fails loudly instead of misreporting the API.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass
from typing import Any, Literal

from contracts.spec.dialects import request_level_fields
from contracts.spec.schema import STATUS, SUBMIT, FieldRule, field_rules, operation, poison_field, request_schema
from contracts.spec.validators import field_validator, request_validator

Expectation = Literal["accept", "reject"]
# Numbers step this far off an inclusive bound rather than to the next double (math.nextafter): a widening a
# client would notice is never smaller, and 0.9999999999999999 tests the server's float parsing (a gateway that
# rounds, a Decimal column) as much as its rule, so it could report drift where the rule has not moved.
# The strategies' boundary examples already walk the next doubles against the fake.
NUMBER_STEP = 0.01
# Queued, so that if production ever accepted a probe it would answer at once instead of holding a GPU job open.
QUEUED = {"celery": True}


class Absent(enum.Enum):
    """The marker for "the field is left out of the body"."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "<absent>"


ABSENT = Absent.ABSENT


class ProbeError(Exception):
    """The contract gives the probe too little to build a safe request; the message says what is missing."""


@dataclass(frozen=True)
class ProbeCase:
    """One request of the matrix: `field` set to `value` (or left out), and `poison` broken too: left out, or
    set to `poison_value`, so that the contract rejects the request whatever `value` is."""

    field: str
    rule: str
    value: Any
    expected: Expectation
    source: str
    poison: str  # empty for a status read: it starts no job, so nothing else needs breaking
    poison_value: Any = ABSENT
    operation: str = SUBMIT

    def body(self, base: dict[str, Any]) -> dict[str, Any]:
        body = {name: value for name, value in base.items() if name not in (self.field, self.poison)}
        if self.value is not ABSENT:
            body[self.field] = self.value
        if self.poison_value is not ABSENT:
            body[self.poison] = self.poison_value
        return body


@functools.cache
def base_body(operation_id: str = SUBMIT) -> dict[str, Any]:
    """A body the contract accepts: the contract's request example, completed from the rules; a submit is queued."""
    example = _example(operation_id)
    rules = field_rules(operation_id)
    missing = {rule.name: _made_up(rule) for rule in rules if rule.required and rule.name not in example}
    body = {**missing, **example, **(QUEUED if operation_id == SUBMIT else {})}
    if not request_validator(operation_id).is_valid(body):
        raise ProbeError(f"the contract's example request does not pass its own schema: {body}")
    return body


def contract_accepts(body: dict[str, Any], operation_id: str = SUBMIT) -> bool:
    return bool(request_validator(operation_id).is_valid(body))


@functools.cache
def probe_cases(*, free: bool = False) -> tuple[ProbeCase, ...]:
    """The whole matrix, by field in contract order, then rule; checked against the contract's schema.

    `free`: every request also breaks a field the backend checks before any job (an unknown app id, or a GPU
    that does not exist), so none reaches a GPU worker; rules checked later in the job are then not reached.
    """
    base = base_body()
    cases = tuple(
        ProbeCase(
            rule.name,
            kind,
            value,
            expected,
            source,
            *(free_poison_for(rule.name) if free else (poison_for(rule.name), ABSENT)),
        )
        for rule in field_rules(SUBMIT)
        for kind, value, expected, source in _rows(rule, base.get(rule.name))
    )
    for case in cases:
        if _field_accepts(case.field, case.value) != (case.expected == "accept"):
            raise ProbeError(f"probe case {case} disagrees with the contract's schema")
    return cases


@functools.cache
def status_probe_cases() -> tuple[ProbeCase, ...]:
    """Each required field of the status request left out, then of the wrong type: two requests it must refuse.

    Nothing else is broken: a status read starts no job. A status read the contract accepts reads PENDING for a
    made-up id, which says nothing of the rules, so only the values it must refuse are sent.
    """
    base = base_body(STATUS)
    cases = tuple(
        ProbeCase(rule.name, kind, value, expected, source, poison="", operation=STATUS)
        for rule in field_rules(STATUS)
        if rule.required
        for kind, value, expected, source in _rows(rule, base.get(rule.name), STATUS)
        if expected == "reject"
    )
    for case in cases:
        if _field_accepts(case.field, case.value, STATUS):
            raise ProbeError(f"probe case {case} disagrees with the contract's schema")
    return cases


def _rows(rule: FieldRule, base_value: Any, operation_id: str = SUBMIT) -> list[tuple[str, Any, Expectation, str]]:
    schema = request_schema(operation_id)
    required_source = schema.get("x-required-source", schema.get("x-source", "docs"))
    # Strict types are a decision stated on the request object, not on each field.
    type_source = schema.get("x-source", "docs")
    rows: list[tuple[str, Any, Expectation, str]] = [
        ("required", ABSENT, "reject", required_source)
        if rule.required
        else ("optional", ABSENT, "accept", rule.source),
        ("type", _wrong_type(rule, base_value), "reject", type_source),
    ]
    step = 1 if rule.type == "integer" else _number_step(rule)
    for keyword, bound, inward in _bounds(rule):
        # On an inclusive bound: accept, one step outside: reject. On an exclusive one: reject, one step inside: accept.
        if keyword.startswith("exclusive"):
            rows += [
                (keyword, bound, "reject", rule.source),
                (keyword, _exact(bound + inward * step), "accept", rule.source),
            ]
        else:
            rows += [
                (keyword, bound, "accept", rule.source),
                (keyword, _exact(bound - inward * step), "reject", rule.source),
            ]
    if rule.enum is not None:
        rows += [("enum", member, "accept", rule.source) for member in rule.enum]
        rows.append(("enum", _near_miss(rule.enum), "reject", rule.source))
    if rule.pattern is not None:
        rows += [
            ("pattern", base_value, "accept", rule.source),
            ("pattern", _off_pattern(rule, base_value), "reject", rule.source),
        ]
    return rows


def _bounds(rule: FieldRule) -> list[tuple[str, float, int]]:
    # (keyword, bound, direction pointing into the range)
    stated = [
        ("minimum", rule.minimum, 1),
        ("exclusiveMinimum", rule.exclusive_minimum, 1),
        ("maximum", rule.maximum, -1),
        ("exclusiveMaximum", rule.exclusive_maximum, -1),
    ]
    return [(keyword, bound, inward) for keyword, bound, inward in stated if bound is not None]


def _number_step(rule: FieldRule) -> float:
    # Never step past the other side of a narrow range.
    lows = [b for b in (rule.minimum, rule.exclusive_minimum) if b is not None]
    highs = [b for b in (rule.maximum, rule.exclusive_maximum) if b is not None]
    if lows and highs:
        return min(NUMBER_STEP, (min(highs) - max(lows)) / 4)
    return NUMBER_STEP


def _exact(value: float) -> float:
    # Rounds away float noise (1 - 0.01 is 0.9900000000000001 on its own); an int bound from the YAML stays an int.
    return round(value, 10)


def _wrong_type(rule: FieldRule, base_value: Any) -> Any:
    # The spellings PRODUCT.md names: "512" is not a number, 0 is not a boolean, a number is not a string.
    if rule.type in ("integer", "number"):
        return str(base_value if base_value is not None else _made_up(rule))
    if rule.type == "boolean":
        return int(bool(base_value))
    return 0


def _near_miss(members: tuple[str, ...]) -> str:
    for member in members:
        for candidate in (member.upper(), member.lower(), member + "x"):
            if candidate not in members:
                return candidate
    raise ProbeError(f"no near miss for the enum {members}")


def _off_pattern(rule: FieldRule, conforming: str) -> str:
    # The conforming value with its scheme cut off, e.g. an image URL without "https://".
    for candidate in (conforming.partition("://")[2], "no-scheme", ""):
        if not _field_accepts(rule.name, candidate):
            return candidate
    raise ProbeError(f"no value found that breaks the pattern of {rule.name}")


def free_poison_for(field: str) -> tuple[str, Any]:
    # A field the backend checks before any job, set to a near miss of its enum: an app id it does not know (refused
    # at once, main.py L48) or a GPU it does not have (refused by APIInput, L46). The contract forbids both.
    levels = request_level_fields()
    for rule in field_rules(SUBMIT):
        if rule.name in levels and rule.enum and rule.name != field:
            return rule.name, _near_miss(rule.enum)
    raise ProbeError(f"the contract has no request-level enum field to break beside {field!r}")


def poison_for(field: str) -> str:
    try:
        return poison_field(avoiding=field)
    except KeyError as exc:
        raise ProbeError(str(exc.args[0])) from None


def _made_up(rule: FieldRule) -> Any:
    # Only for what the contract's example leaves out; base_body() checks the result against the schema.
    if rule.has_default:
        return rule.default
    if rule.enum:
        return rule.enum[0]
    if rule.type in ("integer", "number"):
        return next((b for b in (rule.maximum, rule.minimum) if b is not None), 1)
    if rule.type == "boolean":
        return False
    if rule.pattern is None:
        return rule.name
    raise ProbeError(f"the contract has no example value for {rule.name} and the probe cannot invent one")


def _example(operation_id: str) -> dict[str, Any]:
    body = operation(operation_id)["requestBody"]["content"]["application/json"]
    example: dict[str, Any] = body.get("example", {})
    return example


def _field_accepts(name: str, value: Any, operation_id: str = SUBMIT) -> bool:
    if value is ABSENT:
        return name not in request_schema(operation_id).get("required", ())
    return bool(field_validator(operation_id, name).is_valid(value))
