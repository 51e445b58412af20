"""The only place a response body is built, and the `Reply` that carries one.

Every answer of the documented contract, error or not, is the envelope with exactly these eight keys. A
fidelity profile may answer with production's seven (`shaped`) or, where FastAPI answers before the
backend does, with FastAPI's own `{"detail": ...}` (`detail`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import orjson

KEYS = ("time_required", "error", "error_data", "input", "output", "app_id", "task_id", "status")

Envelope = dict[str, Any]


# Not frozen: one or two are made per request, and a frozen dataclass pays a call per field to be built.
@dataclass(slots=True)
class Reply:
    """What the transport should answer, and how long (simulated seconds) to wait before answering.

    `connection` names a connection fault the transport must act out instead of answering normally.
    """

    status_code: int
    body: Envelope
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    connection: str | None = None
    # A recorded answer that was not JSON is answered as it was (replay.py): these bytes, this media type.
    raw: bytes | None = None
    media_type: str | None = None


def shaped(body: Any, keys: tuple[str, ...]) -> Any:
    """An envelope cut down to `keys` (in their order); any other body as it is."""
    if not isinstance(body, dict) or len(body) != len(KEYS):
        return body
    if keys == KEYS and tuple(body) == KEYS:
        return body  # already the envelope, in order: nothing to cut (the case of almost every answer)
    if any(key not in body for key in KEYS):
        return body
    return {key: body[key] for key in keys}


def encode(body: Any) -> bytes:
    """A body as compact UTF-8 JSON, the bytes every answer and stored task carries.

    orjson, in C, at about a twentieth of the standard library's cost per answer. Every value here was
    decoded by orjson or made by the fake, so none is NaN or infinite.
    """
    try:
        return orjson.dumps(body)
    except TypeError:
        # Beyond orjson: an integer past 64 bits (pydantic makes one of a long digit string) or a key that
        # is not a string. The standard library writes both, as Starlette's JSONResponse did.
        return json.dumps(body, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def detail(value: Any) -> dict[str, Any]:
    """FastAPI's own error body, for answers the backend's framework gives before any endpoint runs."""
    return {"detail": value}


def _envelope(
    *,
    status: str,
    time_required: dict[str, float] | None = None,
    error: str | None = None,
    error_data: Any = None,
    input: dict[str, Any] | None = None,
    output: dict[str, Any] | None = None,
    app_id: str | None = None,
    task_id: str | None = None,
) -> Envelope:
    return {
        "time_required": time_required or {},
        "error": error,
        "error_data": error_data,
        "input": input or {},
        "output": output or {},
        "app_id": app_id,
        "task_id": task_id,
        "status": status,
    }


def success(
    *,
    body: dict[str, Any],
    echo: dict[str, Any],
    startup_time: float,
    runtime: float,
    result: list[str],
    nsfw: list[bool],
    low_res_urls: list[str],
) -> Envelope:
    return _envelope(
        status="SUCCESS",
        time_required={"startup_time": startup_time, "runtime": runtime},
        input=echo,
        output={"result": result, "Has_NSFW_Content": nsfw, "low_res_urls": low_res_urls},
        app_id=body["app_id"],
    )


def queued(*, body: dict[str, Any], echo: dict[str, Any], task_id: str) -> Envelope:
    return _envelope(status="PENDING", input=echo, app_id=body["app_id"], task_id=task_id)


def pending_status(*, task_id: str, echo: dict[str, Any]) -> Envelope:
    # Same body for a running task and an unknown id: production cannot tell them apart.
    return _envelope(status="PENDING", input=echo, task_id=task_id)


def failed(*, error: str, error_data: Any, body: Any = None, echo: dict[str, Any] | None = None) -> Envelope:
    """A FAILED envelope; `input` is `echo` if given, else `body` when it is a JSON object."""
    request = body if isinstance(body, dict) else {}
    app_id = request.get("app_id")
    return _envelope(
        status="FAILED",
        error=error,
        error_data=error_data,
        input=request if echo is None else echo,
        app_id=app_id if isinstance(app_id, str) else None,
    )


def invalid(*, errors: list[dict[str, str]], body: dict[str, Any]) -> Envelope:
    return failed(error="Input Validation Error", error_data=errors, body=body)
