"""What one cassette line must hold: every value checked when a cassette is read, since a cassette is input.

A recording can be edited, cut short or written by another tool; replay then acts on its values (a status
it sends, seconds it holds a request, offsets it schedules a task by). Each check raises `LineError` naming
the key, the value and what was expected, in the config's wording: `response.status=9999 must be …`.
Bodies are already bounded by the decoder (depth, number size, no NaN, no lone surrogates).
"""

from __future__ import annotations

import math
from typing import Any

FORMAT = 1
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"})
AUTHS = ("bearer", "other", None)
# Final HTTP status codes: a 1xx is an interim answer, which no client receives as the answer to its request
# (httpx never returns one), and replayed as final it would break the connection.
STATUS_CODES = range(200, 600)
_SHOWN = 40  # characters of a bad value a message repeats


class LineError(ValueError):
    """A line that cannot be replayed; the message names the key, the value and what was expected."""


def check_header(line: Any) -> str:
    """The upstream a cassette header names; LineError unless the line is a header of this format."""
    if not (isinstance(line, dict) and line.get("qolaba_mock_cassette") == FORMAT):
        raise LineError(f'not a qolaba-mock cassette header (expected {{"qolaba_mock_cassette": {FORMAT}, ...}})')
    return _text(line, "upstream", line.get("upstream"))


def check_exchange(line: Any, max_seconds: float | None) -> None:
    """Every value of an exchange line, or LineError; `max_seconds` bounds `seconds` and `task.offset`."""
    if not isinstance(line, dict):
        raise LineError(f"expected a JSON object, not {_kind(line)}")
    seq: Any = line.get("seq")
    _require(_is_int(seq) and seq >= 1, "seq", seq, "a positive integer")
    at: Any = line.get("at")
    _require(_is_number(at) and math.isfinite(at) and at >= 0, "at", at, "a non-negative number of seconds")
    method: Any = line.get("method")
    _require(method in METHODS, "method", method, "an HTTP method, e.g. 'POST'")
    path: Any = line.get("path")
    _require(isinstance(path, str) and path.startswith("/"), "path", path, "a path starting with '/'")
    _require(line.get("auth") in AUTHS, "auth", line.get("auth"), "'bearer', 'other' or null")
    _require(_optional_text(line.get("token")), "token", line.get("token"), "a token name such as 't1', or null")
    _check_message(line.get("request", {}), "request")
    response: Any = line.get("response")
    _require(isinstance(response, dict), "response", response, "an object")
    status: Any = response["status"] if "status" in response else None
    _require(_is_int(status) and status in STATUS_CODES, "response.status", status, "a final HTTP status code, 200-599")
    headers: Any = response.get("headers", {})
    _require(_texts(headers), "response.headers", headers, "an object of strings")
    _check_message(response, "response")
    _seconds(line.get("seconds", 0.0), "seconds", max_seconds)
    task: Any = line.get("task")
    if task is not None:
        _require(isinstance(task, dict), "task", task, "{'submit': <seq>, 'offset': <seconds>}")
        submit: Any = task.get("submit")
        _require(_is_int(submit) and submit >= 1, "task.submit", submit, "the seq of the submit that queued it")
        _seconds(task.get("offset"), "task.offset", max_seconds)


def _check_message(message: Any, where: str) -> None:
    _require(isinstance(message, dict), where, message, "an object")
    for key in ("text", "content_type", "note"):
        _require(_optional_text(message.get(key)), f"{where}.{key}", message.get(key), "a string or null")
    steering = message.get("steering")
    _require(steering is None or _texts(steering), f"{where}.steering", steering, "an object of strings")
    image = message.get("image")
    if image is not None:
        _require(isinstance(image, dict), f"{where}.image", image, "an object")
        for key in ("bytes", "width", "height"):
            value = image.get(key, 0)
            _require(_is_int(value) and value >= 0, f"{where}.image.{key}", value, "a non-negative integer")


def _seconds(value: Any, key: str, limit: float | None) -> None:
    expected = "a non-negative number of seconds" + ("" if limit is None else f", at most max_latency ({limit:g})")
    _require(_is_number(value) and math.isfinite(value) and value >= 0, key, value, expected)
    _require(limit is None or value <= limit, key, value, expected + "; raise --max-latency to replay it")


def _text(line: dict[str, Any], key: str, value: Any) -> str:
    _require(isinstance(value, str), key, value, "a string")
    return str(value)


def _require(ok: bool, key: str, value: Any, expected: str) -> None:
    if not ok:
        raise LineError(f"{key}={_shown(value)} must be {expected}")


def _shown(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _optional_text(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _texts(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
