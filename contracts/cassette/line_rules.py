"""What one cassette line must hold: every value checked when a cassette is read, since a cassette is input.

A recording can be edited, cut short or written by another tool; replay then acts on its values (a status
it sends, seconds it holds a request, offsets it schedules a task by). The rules are one JSON Schema, checked
by jsonschema-rs (a few microseconds a line: a 100,000-line cassette is read in about a second); a line it
refuses raises `LineError` naming the key, the value and what was expected, in the config's wording:
`response.status=9999 must be a final HTTP status code, 200-599` (each rule's `x-expected`).
Bodies are already bounded by the decoder (depth, number size, no NaN, no lone surrogates).
"""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs

FORMAT = 1
_SHOWN = 40  # characters of a bad value a message repeats


class LineError(ValueError):
    """A line that cannot be replayed; the message names the key, the value and what was expected."""


def _text(expected: str = "a string or null") -> dict[str, Any]:
    return {"type": ["string", "null"], "x-expected": expected}


def _texts() -> dict[str, Any]:
    strings = {"type": "string", "x-expected": "a string"}
    return {"type": "object", "additionalProperties": strings, "x-expected": "an object of strings"}


def _count() -> dict[str, Any]:
    return {"type": "integer", "minimum": 0, "x-expected": "a non-negative integer"}


def _seconds(limit: float | None) -> dict[str, Any]:
    bound = {} if limit is None else {"maximum": limit}
    at_most = "" if limit is None else f", at most max_latency ({limit:g}); raise --max-latency to replay it"
    return {"type": "number", "minimum": 0, **bound, "x-expected": "a non-negative number of seconds" + at_most}


# A body as recorded (contracts.cassette.jsonl.Message); `json` is any JSON value.
_MESSAGE = {
    "text": _text(),
    "content_type": _text(),
    "note": _text(),
    "steering": {**_texts(), "type": ["object", "null"]},
    "image": {
        "type": ["object", "null"],
        "properties": {"bytes": _count(), "width": _count(), "height": _count()},
        "x-expected": "an object",
    },
}


def _line_schema(max_seconds: float | None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["seq", "at", "method", "path", "response"],
        "x-expected": "a JSON object",
        "properties": {
            "seq": {"type": "integer", "minimum": 1, "x-expected": "a positive integer"},
            "at": {"type": "number", "minimum": 0, "x-expected": "a non-negative number of seconds"},
            "method": {
                "enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"],
                "x-expected": "an HTTP method, e.g. 'POST'",
            },
            "path": {"type": "string", "pattern": "^/", "x-expected": "a path starting with '/'"},
            "auth": {"enum": ["bearer", "other", None], "x-expected": "'bearer', 'other' or null"},
            "token": _text("a token name such as 't1', or null"),
            "request": {"type": "object", "properties": _MESSAGE, "x-expected": "an object"},
            "response": {
                "type": "object",
                "required": ["status"],
                "x-expected": "an object",
                "properties": {
                    # Final codes only: a 1xx is an interim answer no client receives as the answer to its
                    # request (httpx never returns one), and replayed as final it would break the connection.
                    "status": {
                        "type": "integer",
                        "minimum": 200,
                        "maximum": 599,
                        "x-expected": "a final HTTP status code, 200-599",
                    },
                    "headers": _texts(),
                    **_MESSAGE,
                },
            },
            "seconds": _seconds(max_seconds),
            "task": {
                "type": ["object", "null"],
                "required": ["submit", "offset"],
                "x-expected": "{'submit': <seq>, 'offset': <seconds>} or null",
                "properties": {
                    "submit": {"type": "integer", "minimum": 1, "x-expected": "the seq of the submit that queued it"},
                    "offset": _seconds(max_seconds),
                },
            },
        },
    }


@functools.cache
def _validator(max_seconds: float | None) -> jsonschema_rs.Validator:
    return jsonschema_rs.validator_for(_line_schema(max_seconds))


def check_header(line: Any) -> str:
    """The upstream a cassette header names; LineError unless the line is a header of this format."""
    if not (isinstance(line, dict) and line.get("qolaba_mock_cassette") == FORMAT):
        raise LineError(f'not a qolaba-mock cassette header (expected {{"qolaba_mock_cassette": {FORMAT}, ...}})')
    upstream = line.get("upstream")
    if not isinstance(upstream, str):
        raise LineError(f"upstream={_shown(upstream)} must be a string")
    return upstream


def check_exchange(line: Any, max_seconds: float | None) -> None:
    """Every value of an exchange line, or LineError; `max_seconds` bounds `seconds` and `task.offset`."""
    validator = _validator(max_seconds)
    if validator.is_valid(line):
        return
    error = next(iter(validator.iter_errors(line)))
    path, rule, value = list(error.instance_path), list(error.schema_path), error.instance
    if isinstance(error.kind, jsonschema_rs.ValidationErrorKind.Required):
        missing = error.kind.property
        path, rule, value = [*path, missing], [*rule[:-1], "properties", missing], None
    if not path:
        raise LineError(f"expected a JSON object, not {_kind(value)}")
    expected = _expected(_line_schema(max_seconds), rule)
    raise LineError(f"{'.'.join(map(str, path))}={_shown(value)} must be {expected}")


def _expected(schema: dict[str, Any], schema_path: list[str | int]) -> str:
    """The `x-expected` of the deepest rule on the way to the keyword that failed."""
    node: Any = schema
    expected = str(schema["x-expected"])
    for step in schema_path:
        node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict) and "x-expected" in node:
            expected = str(node["x-expected"])
    return expected


def _shown(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
