"""Compiled validators for the contract's request bodies: one cache, shared by the fake and the checks.

jsonschema_rs is the engine schemathesis uses: it rejects NaN and reads `pattern` as ECMA-262, so the
fake, the strategies' self-checks and the contract checks agree on every edge.
"""

from __future__ import annotations

import functools

import jsonschema_rs

from contracts.spec.schema import request_schema


@functools.cache
def request_validator(operation_id: str) -> jsonschema_rs.Validator:
    """The whole request body of an operation."""
    return jsonschema_rs.validator_for(request_schema(operation_id))


@functools.cache
def field_validator(operation_id: str, name: str) -> jsonschema_rs.Validator:
    """One property of an operation's request body, on its own."""
    return jsonschema_rs.validator_for(request_schema(operation_id)["properties"][name])
