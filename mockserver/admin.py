"""The admin API under `/__admin/`: health, config, seed, clock, faults, latency, journal, tasks, reset.

Calls act on the namespace named by the `X-Mock-Namespace` header or `?namespace=` (default: `default`).
Invalid input answers 422 with the same envelope the API uses, naming the key.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from mockserver import envelope, namespaces
from mockserver.backend import Backend
from mockserver.clock import VirtualClock
from mockserver.config import ConfigError
from mockserver.faults import FaultError, parse_fault
from mockserver.latency import LatencyError, parse_latency
from mockserver.namespaces import Namespace

# Keys that can change on a running server; host, port and the clock are fixed at start.
PATCHABLE = frozenset({"tokens", "latency", "faults", "fidelity", "rate_limit", "result_ttl", "gateway_timeout"})
RESET_SCOPES = ("journal", "tasks", "all")


class AdminError(Exception):
    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.field, self.message, self.status_code = field, message, status_code


def _error(exc: AdminError) -> JSONResponse:
    body = envelope.failed(error="Invalid Admin Request", error_data=[{"field": exc.field, "message": exc.message}])
    return JSONResponse(body, status_code=exc.status_code)


def _backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


def _space(request: Request) -> Namespace:
    name = request.headers.get(namespaces.HEADER) or request.query_params.get("namespace") or namespaces.DEFAULT
    try:
        return _backend(request).namespaces.get(name)
    except namespaces.NamespaceError as exc:
        raise AdminError("namespace", str(exc)) from None


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        value = json.loads(raw or b"{}")
    except ValueError:
        raise AdminError("body", "The body must be a JSON object.", 400) from None
    if not isinstance(value, dict):
        raise AdminError("body", "The body must be a JSON object.", 400)
    return value


def _admin(handler: Any) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await handler(request))
        except AdminError as exc:
            return _error(exc)

    return endpoint


async def health(request: Request) -> dict[str, Any]:
    backend = _backend(request)
    return {"status": "ok", "seed": backend.config.seed, "namespaces": [s.name for s in backend.namespaces]}


async def get_config(request: Request) -> dict[str, Any]:
    return _backend(request).config.public_view()


async def patch_config(request: Request) -> dict[str, Any]:
    changes = await _json_object(request)
    for key in changes:
        if key not in PATCHABLE:
            raise AdminError(key, f"{key!r} cannot be changed at run time; changeable: {', '.join(sorted(PATCHABLE))}")
    if "tokens" in changes and isinstance(changes["tokens"], list):
        changes["tokens"] = frozenset(changes["tokens"])
    if "faults" in changes and isinstance(changes["faults"], list):
        changes["faults"] = tuple(changes["faults"])
    try:
        config = dataclasses.replace(_backend(request).config, **changes)
    except (ConfigError, TypeError) as exc:
        raise AdminError(next(iter(changes)), str(exc)) from None
    _backend(request).reconfigure(config)
    return config.public_view()


async def get_seed(request: Request) -> dict[str, Any]:
    return {"namespace": _space(request).name, "seed": _space(request).seed}


async def put_seed(request: Request) -> dict[str, Any]:
    seed = (await _json_object(request)).get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise AdminError("seed", f"seed={seed!r} must be a non-negative integer")
    space = _space(request)
    space.reseed(seed)
    return {"namespace": space.name, "seed": seed}


async def get_clock(request: Request) -> dict[str, Any]:
    space = _space(request)
    mode = "virtual" if isinstance(space.clock, VirtualClock) else "system"
    return {"namespace": space.name, "now": space.clock.now(), "mode": mode, "time_scale": space.config.time_scale}


async def advance_clock(request: Request) -> dict[str, Any]:
    seconds = (await _json_object(request)).get("seconds")
    space = _space(request)
    if not isinstance(space.clock, VirtualClock):
        raise AdminError(
            "clock", "The clock is the system clock; start the server with --clock virtual to advance it.", 409
        )
    if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 <= seconds < float("inf"):
        raise AdminError("seconds", f"seconds={seconds!r} must be a non-negative number")
    return {"namespace": space.name, "now": space.clock.advance(seconds)}


async def get_faults(request: Request) -> dict[str, Any]:
    space = _space(request)
    return {"namespace": space.name, "faults": list(space.fault_specs), "own": space.fault_override is not None}


async def put_faults(request: Request) -> dict[str, Any]:
    specs = (await _json_object(request)).get("faults")
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise AdminError("faults", f"faults={specs!r} must be a list of fault specs, e.g. ['http_429:0.1']")
    try:
        rules = [parse_fault(spec).spec for spec in specs]
    except FaultError as exc:
        raise AdminError("faults", str(exc)) from None
    space = _space(request)
    space.set_faults(tuple(rules))
    return await get_faults(request)


async def delete_faults(request: Request) -> dict[str, Any]:
    _space(request).set_faults(None)
    return await get_faults(request)


async def get_latency(request: Request) -> dict[str, Any]:
    space = _space(request)
    return {"namespace": space.name, "latency": space.latency_spec, "own": space.latency_override is not None}


async def put_latency(request: Request) -> dict[str, Any]:
    spec = (await _json_object(request)).get("latency")
    if not isinstance(spec, str):
        raise AdminError("latency", f"latency={spec!r} must be a latency spec, e.g. 'fixed:250ms'")
    try:
        normalised = parse_latency(spec).spec
    except LatencyError as exc:
        raise AdminError("latency", str(exc)) from None
    _space(request).set_latency(normalised)
    return await get_latency(request)


async def journal(request: Request) -> dict[str, Any]:
    space = _space(request)
    path = request.query_params.get("path")
    return {"namespace": space.name, "entries": [e.as_dict() for e in space.journal.calls_to(path)]}


async def tasks(request: Request) -> dict[str, Any]:
    space = _space(request)
    return {"namespace": space.name, "tasks": space.tasks.describe()}


async def reset(request: Request) -> dict[str, Any]:
    scope = (await _json_object(request)).get("scope", request.query_params.get("scope", "all"))
    if scope not in RESET_SCOPES:
        raise AdminError("scope", f"scope={scope!r} must be one of {', '.join(RESET_SCOPES)}")
    space = _space(request)
    _backend(request).reset(scope, namespace=space.name)
    return {"namespace": space.name, "reset": scope}


routes: list[BaseRoute] = [
    Route("/health", _admin(health), methods=["GET"]),
    Route("/config", _admin(get_config), methods=["GET"]),
    Route("/config", _admin(patch_config), methods=["PATCH"]),
    Route("/seed", _admin(get_seed), methods=["GET"]),
    Route("/seed", _admin(put_seed), methods=["PUT", "POST"]),
    Route("/clock", _admin(get_clock), methods=["GET"]),
    Route("/clock/advance", _admin(advance_clock), methods=["POST"]),
    Route("/faults", _admin(get_faults), methods=["GET"]),
    Route("/faults", _admin(put_faults), methods=["PUT", "POST"]),
    Route("/faults", _admin(delete_faults), methods=["DELETE"]),
    Route("/latency", _admin(get_latency), methods=["GET"]),
    Route("/latency", _admin(put_latency), methods=["PUT", "POST"]),
    Route("/journal", _admin(journal), methods=["GET"]),
    Route("/tasks", _admin(tasks), methods=["GET"]),
    Route("/reset", _admin(reset), methods=["POST"]),
]
