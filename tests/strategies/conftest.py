"""Shared by the strategy tests: the contract as a JSON Schema validator, and the fake called in-process."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest

from contracts import STATUS, SUBMIT, FieldRule, field_rules, request_schema
from strategies import register_profiles

# Makes `--hypothesis-profile=dev|thorough` usable for this folder, and trims the `ci` profile.
register_profiles()

ABSENT = "<absent>"

# jsonschema_rs error kinds, by the rule names the strategies use.
_RULE_OF_KIND = {
    "Required": "required",
    "Type": "type",
    "Minimum": "minimum",
    "Maximum": "maximum",
    "ExclusiveMinimum": "exclusiveMinimum",
    "ExclusiveMaximum": "exclusiveMaximum",
    "Enum": "enum",
    "Pattern": "pattern",
}

Errors = Callable[[dict[str, Any]], list[tuple[str, str]]]


def broken_rules(validator: jsonschema_rs.Validator, body: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, rule) for every error the contract's validator reports on `body`."""
    found = []
    for error in validator.iter_errors(body):
        kind = type(error.kind).__name__
        if kind == "Required":
            field = str(error.kind.property)  # type: ignore[attr-defined]
        else:
            field = str(error.instance_path[0])
        rule = _RULE_OF_KIND.get(kind, kind)
        if rule == "type" and error.instance is None:
            rule = "null"
        found.append((field, rule))
    return found


@pytest.fixture(scope="session")
def submit_errors() -> Errors:
    validator = jsonschema_rs.validator_for(request_schema(SUBMIT))
    return lambda body: broken_rules(validator, body)


@pytest.fixture(scope="session")
def status_errors() -> Errors:
    validator = jsonschema_rs.validator_for(request_schema(STATUS))
    return lambda body: broken_rules(validator, body)


def expected_edges(rule: FieldRule) -> set[tuple[type, Any]]:
    """The documented edges of a field, worked out from its rule without the strategies' help."""
    edges: set[Any] = set()
    if rule.type == "boolean":
        edges = {False, True}
    elif rule.enum is not None:
        edges = set(rule.enum)
    elif rule.type == "integer":
        low = rule.minimum if rule.minimum is not None else rule.exclusive_minimum + 1  # type: ignore[operator]
        high = rule.maximum if rule.maximum is not None else rule.exclusive_maximum - 1  # type: ignore[operator]
        edges = {int(low), int(low) + 1, int(high) - 1, int(high)}
    elif rule.type == "number":
        if rule.minimum is not None:
            low = float(rule.minimum)
            edges |= {low, math.nextafter(low, math.inf)}
        else:
            low = math.nextafter(float(rule.exclusive_minimum), math.inf)  # type: ignore[arg-type]
            edges.add(low)
        if rule.maximum is not None:
            high = float(rule.maximum)
            edges |= {high, math.nextafter(high, -math.inf)}
        else:
            high = math.nextafter(float(rule.exclusive_maximum), -math.inf)  # type: ignore[arg-type]
            edges.add(high)
        bound_low = rule.minimum if rule.minimum is not None else rule.exclusive_minimum
        bound_high = rule.maximum if rule.maximum is not None else rule.exclusive_maximum
        edges |= {v for v in (float(bound_low) + 1, float(bound_high) - 1) if low < v < high}  # type: ignore[arg-type]
    if edges and not rule.required:
        return {(type(v), v) for v in edges} | {(str, ABSENT)}
    return {(type(v), v) for v in edges}


@pytest.fixture(scope="session")
def edge_table() -> dict[str, set[tuple[type, Any]]]:
    """Field name -> its documented edges as (type, value), `ABSENT` included for optional fields."""
    return {rule.name: edges for rule in field_rules(SUBMIT) if (edges := expected_edges(rule))}


@pytest.fixture(scope="session")
def edge_of() -> Callable[[dict[str, Any], str], tuple[type, Any]]:
    """The (type, value) a body holds for a field, `ABSENT` when the field is left out, as in `edge_table`."""

    def key(body: dict[str, Any], name: str) -> tuple[type, Any]:
        value = body.get(name, ABSENT)
        return type(value), value

    return key


class InProcessFake:
    """The fake on an in-process transport, called synchronously from one event loop."""

    def __init__(self) -> None:
        from mockserver import Config, create_app

        self._runner = asyncio.Runner()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(Config(seed=1))),
            base_url="http://testserver",
            headers={"Authorization": "Bearer test-token", "Content-Type": "application/json"},
        )

    def post(self, path: str, body: object) -> httpx.Response:
        # allow_nan=False: a NaN slipping out of a strategy must fail here, not be sent as `NaN`.
        content = json.dumps(body, allow_nan=False)
        return self._runner.run(self._client.post(path, content=content))

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()


@pytest.fixture(scope="session")
def fake() -> Iterator[InProcessFake]:
    client = InProcessFake()
    yield client
    client.close()
