"""The only place a response body is built. Every answer, error or not, has exactly these eight keys."""

from __future__ import annotations

from typing import Any

KEYS = ("time_required", "error", "error_data", "input", "output", "app_id", "task_id", "status")

Envelope = dict[str, Any]


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
    startup_time: float,
    runtime: float,
    result: list[str],
    nsfw: list[bool],
    low_res_urls: list[str],
) -> Envelope:
    return _envelope(
        status="SUCCESS",
        time_required={"startup_time": startup_time, "runtime": runtime},
        input=body,
        output={"result": result, "Has_NSFW_Content": nsfw, "low_res_urls": low_res_urls},
        app_id=body["app_id"],
    )


def queued(*, body: dict[str, Any], task_id: str) -> Envelope:
    return _envelope(status="PENDING", input=body, app_id=body["app_id"], task_id=task_id)


def pending_status(*, task_id: str, ref_id: str) -> Envelope:
    # Same body for a running task and an unknown id: production cannot tell them apart.
    return _envelope(status="PENDING", input={"task_id": task_id, "ref_id": ref_id}, task_id=task_id)


def failed(*, error: str, error_data: Any, body: Any = None) -> Envelope:
    """A FAILED envelope; `body` is echoed in `input` when it is a JSON object."""
    echoed = body if isinstance(body, dict) else {}
    app_id = echoed.get("app_id")
    return _envelope(
        status="FAILED",
        error=error,
        error_data=error_data,
        input=echoed,
        app_id=app_id if isinstance(app_id, str) else None,
    )


def invalid(*, errors: list[dict[str, str]], body: dict[str, Any]) -> Envelope:
    return failed(error="Input Validation Error", error_data=errors, body=body)
