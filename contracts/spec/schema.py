"""The contract, loaded once, and a typed view of its request rules.

Everything that needs a range, an enum or a required set reads it from here, so changing
`openapi.yaml` changes the fake, the strategies and the checks together.
"""

from __future__ import annotations

import copy
import functools
import importlib.resources
import json
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import yaml

SUBMIT = "getImagetoImage"
STATUS = "getImage"

FieldType = Literal["integer", "number", "string", "boolean"]


@dataclass(frozen=True)
class FieldRule:
    """One request-body field as the contract states it."""

    name: str
    type: FieldType
    required: bool
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_message: str | None = None
    default: Any = None
    source: str = "docs"

    @property
    def has_default(self) -> bool:
        return self.default is not None


def contract_text() -> str:
    """The raw YAML of `openapi.yaml`."""
    return importlib.resources.files("contracts").joinpath("openapi.yaml").read_text(encoding="utf-8")


@functools.cache
def _load() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(contract_text())
    return loaded


def load_schema() -> dict[str, Any]:
    """The whole OpenAPI document as a fresh dict (callers may mutate their copy)."""
    return copy.deepcopy(_load())


@functools.cache
def contract_json() -> bytes:
    """The contract serialised as JSON, as served at `/openapi.json`."""
    return json.dumps(_load(), ensure_ascii=False).encode()


def _find(operation_id: str) -> tuple[str, dict[str, Any]]:
    for path, path_item in _load()["paths"].items():
        for operation in path_item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return str(path), operation
    raise KeyError(f"operation_id={operation_id!r} is not in the contract")


def _operation(operation_id: str) -> dict[str, Any]:
    return _find(operation_id)[1]


def operation(operation_id: str) -> dict[str, Any]:
    """An operation's OpenAPI object (request body, responses, links), as a fresh copy."""
    return copy.deepcopy(_operation(operation_id))


@functools.cache
def operation_path(operation_id: str) -> str:
    """The path an operation is served at, e.g. `/getImagetoImage`."""
    return _find(operation_id)[0]


@functools.cache
def served_paths(operation_id: str) -> tuple[str, ...]:
    """Every path the API answers an operation at: the contract's own first, then its `x-also-served-at`."""
    path, found = _find(operation_id)
    return (path, *found.get("x-also-served-at", ()))


def operation_of(path: str) -> str | None:
    """The operation a request path (under any prefix, in any served spelling) belongs to, or None."""
    for operation_id in (SUBMIT, STATUS):
        if path.endswith(served_paths(operation_id)):
            return operation_id
    return None


@functools.cache
def base_path() -> str:
    """The path prefix production serves the API under (of the `servers` URL), e.g. `/api/v1/studio`."""
    return urlsplit(production_base_url()).path.rstrip("/")


def component(name: str) -> dict[str, Any]:
    """A schema from `components/schemas`, with its top-level `$ref` resolved."""
    return _resolve(_load()["components"]["schemas"][name])


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = _load()
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(target)


@functools.cache
def request_schema(operation_id: str) -> dict[str, Any]:
    """The JSON Schema of an operation's request body, with its top-level `$ref` resolved."""
    body = _operation(operation_id)["requestBody"]["content"]["application/json"]["schema"]
    return _resolve(body)


@functools.cache
def field_rules(operation_id: str) -> tuple[FieldRule, ...]:
    """Every property of an operation's request body, in contract order."""
    schema = request_schema(operation_id)
    required = set(schema.get("required", ()))
    return tuple(
        FieldRule(
            name=name,
            type=spec["type"],
            required=name in required,
            minimum=spec.get("minimum"),
            maximum=spec.get("maximum"),
            exclusive_minimum=spec.get("exclusiveMinimum"),
            exclusive_maximum=spec.get("exclusiveMaximum"),
            enum=tuple(spec["enum"]) if "enum" in spec else None,
            pattern=spec.get("pattern"),
            pattern_message=spec.get("x-pattern-message"),
            default=spec.get("default"),
            source=spec.get("x-source", "docs"),
        )
        for name, spec in schema["properties"].items()
    )


def field_rule(operation_id: str, name: str) -> FieldRule:
    """The rule for one field; KeyError names the field if the contract has no such field."""
    for rule in field_rules(operation_id):
        if rule.name == name:
            return rule
    raise KeyError(f"field {name!r} is not in the {operation_id} request body")


def poison_field(avoiding: str | None = None) -> str:
    """A required submit field to leave out so that the contract rejects a body, whatever else it holds.

    A plain one (no enum, pattern or bound) is preferred: it sits in the same pydantic model as the values
    under test, whereas `app_id` and `image` may be routed or renamed by the gateway before validation.
    """
    candidates = sorted(
        (rule for rule in field_rules(SUBMIT) if rule.required and rule.enum is None and rule.pattern is None),
        key=lambda rule: any(bound is not None for bound in (rule.minimum, rule.maximum, rule.exclusive_minimum)),
    )
    for rule in candidates:
        if rule.name != avoiding:
            return rule.name
    raise KeyError(f"the contract has no second required field to leave out beside {avoiding!r}")


def production_backend() -> dict[str, Any]:
    """What the backend behind the gateway really checks (`x-production`): its models, renames and apps."""
    return copy.deepcopy(_load()["x-production"])


def max_request_bytes() -> int:
    """The largest request body the API accepts."""
    limit: int = _load()["x-max-request-bytes"]
    return limit


def production_base_url() -> str:
    """The production base URL the contract names in `servers`."""
    url: str = _load()["servers"][0]["url"]
    return url
