"""The backend's own pydantic models, built from the contract's `x-production` block.

pydantic itself does the checking, so coercion is pydantic v2's lax mode exactly (`"2"` is 2, `true` is 1,
`2.5` is no int) and a failure reads exactly as the backend's does ("1 validation error for
FaceConsistentParameters\\nbatch\\n  Input should be less than or equal to …").
"""

from __future__ import annotations

import functools
from typing import Any, Literal, cast

from pydantic import BaseModel, Field, create_model

from contracts.spec.schema import production_backend

_TYPES: dict[str, Any] = {"integer": int, "number": float, "string": str, "boolean": bool, "object": dict, "any": Any}
# JSON Schema keyword -> pydantic constraint.
_BOUNDS = {"minimum": "ge", "maximum": "le", "exclusiveMinimum": "gt", "exclusiveMaximum": "lt"}


def _model(spec: dict[str, Any]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for name, rule in spec["fields"].items():
        annotation = _TYPES[rule["type"]]
        if "enum" in rule:
            annotation = Literal[tuple(rule["enum"])]
        if rule.get("nullable"):
            annotation = annotation | None
        bounds = {_BOUNDS[key]: value for key, value in rule.items() if key in _BOUNDS}
        default = ... if rule.get("required") else rule.get("default")
        fields[name] = (annotation, Field(default, **bounds))
    # No model_config, as in the backend: extra keys are ignored and types coerced (lax mode).
    return cast("type[BaseModel]", create_model(spec["name"], **fields))


@functools.cache
def request_model() -> type[BaseModel]:
    """`APIInput`: the top-level keys, checked before any job."""
    return _model(production_backend()["request-model"])


@functools.cache
def parameters_model() -> type[BaseModel]:
    """`FaceConsistentParameters`: the generation's parameters, checked inside the GPU job."""
    return _model(production_backend()["parameters-model"])


@functools.cache
def status_model() -> type[BaseModel]:
    """`TaskStatus`: the status endpoint's body, checked by FastAPI before the endpoint runs."""
    return _model(production_backend()["status-model"])


@functools.cache
def apps() -> dict[str, dict[str, Any]]:
    """The backend's `app_dict`, for the app ids this fake serves."""
    found: dict[str, dict[str, Any]] = production_backend()["apps"]
    return found


@functools.cache
def _renames(operation_id: str) -> dict[str, str]:
    renames: dict[str, str] = production_backend()["renames"][operation_id]
    return renames


def renamed(operation_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body as the backend receives it, the gateway's renames applied (`image` -> `file_url`, ...)."""
    renames = _renames(operation_id)
    return {renames.get(key, key): value for key, value in body.items()}
