"""Who words a refusal made before the backend runs: the documented envelope, or FastAPI in front of the backend.

Each dialect answers two questions. `admit`: is this request's caller and body acceptable, in the order its
server checks them (the contract: credentials, then the body; FastAPI: JSON syntax, then credentials, then
the body's type, then the key)? And `no_route`: how is a path or method nothing serves answered?
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from contracts.spec.schema import STATUS
from contracts.spec.strict_json import InvalidJson, parse_object, parse_value
from mockserver.behaviour.fidelity.backend_models import renamed, status_model
from mockserver.wire import auth, envelope
from mockserver.wire.auth import AuthFailure
from mockserver.wire.envelope import Reply

ReadBody = Callable[[], Awaitable[bytes]]


class Answers(Protocol):
    async def admit(
        self, operation_id: str, headers: Mapping[str, str], read: ReadBody, tokens: frozenset[str]
    ) -> dict[str, Any] | Reply:
        """The request's JSON object, or the refusal; `read` gives the body (it may raise for its size)."""
        ...

    def no_route(self, status_code: int, method: str, path: str, headers: dict[str, str]) -> Reply: ...


class EnvelopeAnswers:
    """The documented contract: every refusal is the envelope, with a 4xx the contract lists."""

    async def admit(
        self, operation_id: str, headers: Mapping[str, str], read: ReadBody, tokens: frozenset[str]
    ) -> dict[str, Any] | Reply:
        # Credentials first, so an unknown caller cannot make the fake read a body.
        failure = auth.check(headers, tokens)
        if failure is not None:
            challenge = {"WWW-Authenticate": "Bearer"} if failure.challenge else {}
            return Reply(401, envelope.failed(error=failure.error, error_data=failure.error_data), headers=challenge)
        try:
            return parse_object(await read())
        except InvalidJson as problem:
            return Reply(400, envelope.failed(error="Invalid JSON", error_data=str(problem)))

    def no_route(self, status_code: int, method: str, path: str, headers: dict[str, str]) -> Reply:
        error = "Method Not Allowed" if status_code == 405 else "Not Found"
        return Reply(status_code, envelope.failed(error=error, error_data=f"{method} {path}"), headers=headers)


class FastApiAnswers:
    """The backend as it runs: FastAPI with HTTPBearer, a `dict` body and its own exception handler.

    403 `detail` for missing credentials, 500 `Internal Error` for an unknown key, 422 `detail` lists for
    bodies that are not a JSON object, `detail` for unknown routes.
    """

    async def admit(
        self, operation_id: str, headers: Mapping[str, str], read: ReadBody, tokens: frozenset[str]
    ) -> dict[str, Any] | Reply:
        raw = await read()
        media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
        # A body of another media type is passed on as bytes, undecoded (fastapi/routing.py).
        as_json = not media_type or media_type == "application/json" or media_type.endswith("+json")
        value: Any = raw.decode("utf-8", "replace")
        if raw and as_json:
            try:
                value = parse_value(raw)
            except InvalidJson as problem:
                return _undecodable(raw, str(problem))  # decoding comes before any dependency
        failure = auth.check(headers, tokens)
        if failure is not None and failure.problem != "unknown":
            return _bearer_refusal(failure)  # HTTPBearer, a dependency, before the body is validated
        refused = _body_refusal(operation_id, raw, value)
        if refused is not None:
            return refused
        if failure is not None:
            # check_token raises Exception("Invalid API Key") in the endpoint; the handler answers str(exc.args).
            return Reply(500, envelope.failed(error="Internal Error", error_data=str(("Invalid API Key",))))
        body: dict[str, Any] = value
        return body

    def no_route(self, status_code: int, method: str, path: str, headers: dict[str, str]) -> Reply:
        text = "Method Not Allowed" if status_code == 405 else "Not Found"
        return Reply(status_code, envelope.detail(text), headers=headers)


def _error(kind: str, loc: list[Any], msg: str, value: Any, ctx: dict[str, Any] | None = None) -> dict[str, Any]:
    error = {"type": kind, "loc": loc, "msg": msg, "input": value}
    return error if ctx is None else {**error, "ctx": ctx}


def _bearer_refusal(failure: AuthFailure) -> Reply:
    # FastAPI before 0.122 (the backend pins none; a 2025-09 build predates it): 403, and no challenge.
    text = "Invalid authentication credentials" if failure.problem == "scheme" else "Not authenticated"
    return Reply(403, envelope.detail(text))


def _body_refusal(operation_id: str, raw: bytes, value: Any) -> Reply | None:
    if not raw:
        return Reply(422, envelope.detail([_error("missing", ["body"], "Field required", None)]))
    if operation_id != STATUS:
        # The submit endpoint takes a plain `dict`.
        if not isinstance(value, dict):
            return Reply(
                422, envelope.detail([_error("dict_type", ["body"], "Input should be a valid dictionary", value)])
            )
        return None
    # The status endpoint takes the TaskStatus model, which FastAPI validates before the endpoint runs.
    try:
        status_model().model_validate(renamed(STATUS, value) if isinstance(value, dict) else value)
    except ValidationError as invalid:
        return Reply(422, envelope.detail([_fastapi_error(error) for error in invalid.errors(include_url=False)]))
    return None


def _fastapi_error(error: Any) -> dict[str, Any]:
    found = _error(error["type"], ["body", *error["loc"]], error["msg"], error["input"])
    context = error.get("ctx")
    return found if not context else {**found, "ctx": {key: str(value) for key, value in context.items()}}


def _undecodable(raw: bytes, fallback: str) -> Reply:
    # FastAPI decodes with the standard library and reports its message and position.
    try:
        json.loads(raw)
    except json.JSONDecodeError as exc:
        error = _error("json_invalid", ["body", exc.pos], "JSON decode error", {}, {"error": exc.msg})
        return Reply(422, envelope.detail([error]))
    except (ValueError, RecursionError):
        # Not UTF-8 text, or nested past Python's recursion limit: FastAPI's catch-all for a body.
        return Reply(400, envelope.detail("There was an error parsing the body"))
    # The standard library reads what the fake refuses (NaN, a lone surrogate, deep nesting). What production
    # does next is not modelled: it is answered as the JSON error it is under strict JSON.
    error = _error("json_invalid", ["body", 0], "JSON decode error", {}, {"error": fallback})
    return Reply(422, envelope.detail([error]))
