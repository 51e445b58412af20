"""JSON decoding for everything that arrives or is kept: request bodies, admin bodies, journal bodies.

JSON is RFC 8259's: no NaN or Infinity, no lone surrogates (they cannot be encoded back into an answer),
numbers that fit a double, and no deeper than `MAX_DEPTH` (every field of the contract is a scalar; the
limit keeps the echo, the validator and the journal far from any recursion limit).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

MAX_DEPTH = 64


class InvalidJson(ValueError):
    """The body is not JSON the fake can read; the message says why.

    `kind` is what a dialect needs to word it: `empty`, `syntax` (not JSON, or JSON beyond the limits above)
    or `not_object` (JSON, but not an object: `value` holds it).
    """

    def __init__(self, message: str, kind: str = "syntax", value: Any = None) -> None:
        super().__init__(message)
        self.kind, self.value = kind, value


def parse_object(raw: bytes) -> dict[str, Any]:
    """Decode a body that must be a JSON object; InvalidJson says what is wrong with it.

    Usage:
        parse_object(b'{"id": "8c3e"}')   # {'id': '8c3e'}
    """
    if not raw.strip():
        raise InvalidJson("The request body is empty; expected a JSON object.", "empty")
    value = parse_value(raw)
    if not isinstance(value, dict):
        raise InvalidJson(f"The request body must be a JSON object, not {_json_type(value)}.", "not_object", value)
    return value


def parse_value(raw: bytes, *, max_depth: int = MAX_DEPTH, subject: str = "The request body") -> Any:
    """Decode any JSON value under the rules above; InvalidJson says what is wrong, naming `subject`.

    The cassette reader uses it too (a cassette line wraps a body in a few levels of its own).
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(_explain(raw, exc, subject, max_depth)) from None
    # Counting brackets is cheap; only a body that could be too deep is walked.
    if raw.count(b"[") + raw.count(b"{") > max_depth and _deeper_than(value, max_depth):
        raise InvalidJson(f"{subject} nests deeper than {max_depth} levels.")
    return value


def _deeper_than(value: Any, limit: int) -> bool:
    # Iterative, so a deep body cannot exhaust the Python stack while being measured.
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if not isinstance(node, dict | list):
            continue
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


_POSITION = re.compile(r": line \d+ column \d+ \(char \d+\)$")


def _explain(raw: bytes, exc: orjson.JSONDecodeError, subject: str, max_depth: int) -> str:
    # orjson's wording is terse; the standard parser names NaN, Infinity and broken syntax better.
    # Only a body already refused pays for this second look.
    reason = str(exc)
    inside = subject[0].lower() + subject[1:]
    if "not valid UTF-8" in reason:
        return f"{subject} is not valid JSON: it is not UTF-8 text."
    if "surrogate" in reason:
        return f"{subject} holds a lone surrogate (\\ud800-\\udfff), which is not valid Unicode."
    if "depth limit" in reason:
        return f"{subject} nests deeper than {max_depth} levels."
    if "infinity when parsed" in reason:
        return f"A number in {inside} is too large to represent."

    def reject_constant(name: str) -> Any:
        raise InvalidJson(f"{subject} contains {name}, which JSON does not allow.")

    def finite_float(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise InvalidJson(f"A number in {inside} is too large to represent.")
        return value

    try:
        json.loads(raw, parse_constant=reject_constant, parse_float=finite_float)
    except InvalidJson as named:
        return str(named)
    except (ValueError, RecursionError) as stdlib:
        reason = str(stdlib)
    return f"{subject} is not valid JSON: {_short(_POSITION.sub('', reason))}"


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
