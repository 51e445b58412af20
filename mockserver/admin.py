"""The admin API under `/__admin/`: health, config, seed, clock, faults, latency, journal, tasks, reset.

Calls act on the namespace named by the `X-Mock-Namespace` header or `?namespace=` (default: `default`).
Invalid input answers 422 with the same envelope the API uses, naming the key.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from contracts.spec.schema import max_request_bytes
from contracts.spec.strict_json import InvalidJson, parse_object
from mockserver.behaviour.clock import VirtualClock
from mockserver.behaviour.faults import FaultError, parse_fault
from mockserver.behaviour.latency import LatencyError, parse_latency
from mockserver.config.settings import CONFIG_KEYS, Config, ConfigError
from mockserver.http.body_reader import BodyTimedOut, BodyTooLarge, ClientGone, read_body
from mockserver.sim import namespaces
from mockserver.sim.backend import Backend
from mockserver.sim.namespaces import Namespace
from mockserver.wire import auth, envelope

# Keys that can change on a running server; host, port and the clock are fixed at start.
PATCHABLE = frozenset({"tokens", "latency", "faults", "fidelity", "rate_limit", "result_ttl", "gateway_timeout"})
# Fixed keys that another admin call changes after all.
CHANGED_ELSEWHERE = {"seed": "PUT /__admin/seed", "clock": "POST /__admin/clock/advance (with --clock virtual)"}
RESET_SCOPES = ("journal", "tasks", "all")
# Journal pages: entries per answer by default, and at most; and the most kept body bytes one page carries.
JOURNAL_PAGE, JOURNAL_PAGE_MAX = 100, 1000
JOURNAL_PAGE_BYTES = 2 << 20


class AdminError(Exception):
    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.problems, self.status_code = [(field, message)], status_code

    @classmethod
    def of(cls, problems: list[tuple[str, str]]) -> AdminError:
        """One 422 naming every bad field, as the API's own validation does."""
        error = cls(*problems[0])
        error.problems = problems
        return error


def _error(exc: AdminError) -> JSONResponse:
    error_data = [{"field": field, "message": message} for field, message in exc.problems]
    body = envelope.failed(error="Invalid Admin Request", error_data=error_data)
    # A 408 closes the connection: the rest of a trickled body is not worth reading.
    headers = {"connection": "close"} if exc.status_code == 408 else None
    return JSONResponse(body, status_code=exc.status_code, headers=headers)


def backend_of(request: Request) -> Backend:
    """The fake's backend (the dashboard reads it through here, as every admin call does)."""
    backend: Backend = request.app.state.backend
    return backend


def namespace_of(request: Request) -> Namespace:
    """The namespace a call names (`X-Mock-Namespace` or `?namespace=`); AdminError for a bad name."""
    name = request.headers.get(namespaces.HEADER) or request.query_params.get("namespace") or namespaces.DEFAULT
    try:
        return backend_of(request).namespaces.get(name)
    except namespaces.NamespaceError as exc:
        raise AdminError("namespace", str(exc)) from None


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        raw = await read_body(request.scope, request.receive, max_request_bytes())
        return parse_object(raw) if raw.strip() else {}
    except BodyTooLarge as exc:
        raise AdminError("body", str(exc), 413) from None
    except InvalidJson as exc:
        raise AdminError("body", f"The body must be a JSON object: {exc}", 400) from None
    except BodyTimedOut as exc:
        raise AdminError("body", str(exc), 408) from None
    except ClientGone:
        raise AdminError("body", "The client disconnected before its body arrived.", 400) from None


def _admin(handler: Any) -> Any:
    async def endpoint(request: Request) -> JSONResponse:
        try:
            return JSONResponse(await handler(request))
        except AdminError as exc:
            return _error(exc)

    return endpoint


async def health(request: Request) -> dict[str, Any]:
    backend = backend_of(request)
    return {
        "status": "ok",
        "seed": backend.config.seed,
        "namespaces": [s.name for s in backend.namespaces],
        # Requests held now (for their latency, or hung), all let go at once by a shutdown.
        "held": request.app.state.drain.waiting,
    }


def _config_view(request: Request, config: Config) -> dict[str, Any]:
    view = config.public_view()
    # Set by the server once it listens: `serve --port 0` shows the port it chose, not 0.
    bound_port = getattr(request.app.state, "bound_port", None)
    if bound_port is not None:
        view["port"] = bound_port
    return view


async def get_config(request: Request) -> dict[str, Any]:
    return _config_view(request, backend_of(request).config)


async def patch_config(request: Request) -> dict[str, Any]:
    changes = await _json_object(request)
    changeable = ", ".join(sorted(PATCHABLE))
    problems = []
    for key in changes:
        if key not in CONFIG_KEYS:
            problems.append((key, f"unknown key {key!r}; changeable: {changeable}"))
        elif key in CHANGED_ELSEWHERE:
            problems.append((key, f"{key!r} is not changed here; use {CHANGED_ELSEWHERE[key]}"))
        elif key not in PATCHABLE:
            problems.append((key, f"{key!r} cannot be changed at run time; changeable: {changeable}"))
    backend = backend_of(request)
    try:
        config = dataclasses.replace(backend.config, **{k: v for k, v in changes.items() if k in PATCHABLE})
    except ConfigError as exc:
        problems += [(problem.key, problem.message) for problem in exc.problems]
    if problems:
        raise AdminError.of(problems)
    _refuse_lockout(request, config.tokens)
    backend.reconfigure(config)
    return _config_view(request, config)


def _refuse_lockout(request: Request, tokens: frozenset[str]) -> None:
    # A caller that replaces the token set must keep its own token in it, or it could never undo the change.
    if tokens and "authorization" in request.headers and auth.check(request.headers, tokens) is not None:
        raise AdminError("tokens", "The new tokens would refuse the token this request was sent with; include it.")


async def get_seed(request: Request) -> dict[str, Any]:
    return {"namespace": namespace_of(request).name, "seed": namespace_of(request).seed}


async def put_seed(request: Request) -> dict[str, Any]:
    seed = (await _json_object(request)).get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise AdminError("seed", f"seed={seed!r} must be a non-negative integer")
    space = namespace_of(request)
    space.reseed(seed)
    return {"namespace": space.name, "seed": seed}


async def get_clock(request: Request) -> dict[str, Any]:
    space = namespace_of(request)
    mode = "virtual" if isinstance(space.clock, VirtualClock) else "system"
    return {"namespace": space.name, "now": space.clock.now(), "mode": mode, "time_scale": space.config.time_scale}


async def advance_clock(request: Request) -> dict[str, Any]:
    seconds: Any = (await _json_object(request)).get("seconds")
    space = namespace_of(request)
    if not isinstance(space.clock, VirtualClock):
        raise AdminError(
            "clock", "The clock is the system clock; start the server with --clock virtual to advance it.", 409
        )
    try:
        return {"namespace": space.name, "now": space.clock.advance(seconds)}
    except (ValueError, OverflowError) as exc:
        raise AdminError("seconds", f"{exc}; e.g. 40") from None


async def get_faults(request: Request) -> dict[str, Any]:
    space = namespace_of(request)
    return {"namespace": space.name, "faults": list(space.fault_specs), "own": space.fault_override is not None}


async def put_faults(request: Request) -> dict[str, Any]:
    specs = (await _json_object(request)).get("faults")
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        raise AdminError("faults", f"faults={specs!r} must be a list of fault specs, e.g. ['http_429:0.1']")
    try:
        rules = [parse_fault(spec) for spec in specs]
    except FaultError as exc:
        raise AdminError("faults", str(exc)) from None
    space = namespace_of(request)
    space.set_faults(tuple(rules))
    return await get_faults(request)


async def delete_faults(request: Request) -> dict[str, Any]:
    namespace_of(request).set_faults(None)
    return await get_faults(request)


async def get_latency(request: Request) -> dict[str, Any]:
    space = namespace_of(request)
    return {"namespace": space.name, "latency": space.latency_spec, "own": space.latency_override is not None}


async def put_latency(request: Request) -> dict[str, Any]:
    spec = (await _json_object(request)).get("latency")
    if not isinstance(spec, str):
        raise AdminError("latency", f"latency={spec!r} must be a latency spec, e.g. 'fixed:250ms'")
    try:
        normalised = parse_latency(spec, limit=backend_of(request).config.max_latency).spec
    except LatencyError as exc:
        raise AdminError("latency", str(exc)) from None
    namespace_of(request).set_latency(normalised)
    return await get_latency(request)


async def journal(request: Request) -> dict[str, Any]:
    """One page of the journal, oldest first: `?after=SEQ` continues from `next_after`, `?limit=` up to 1000
    entries; a page stops early past 2 MiB of kept bodies, so no answer grows without bound."""
    space = namespace_of(request)
    after = _query_int(request, "after", 0, minimum=0)
    limit = _query_int(request, "limit", JOURNAL_PAGE, minimum=1, maximum=JOURNAL_PAGE_MAX)
    path = request.query_params.get("path")
    entries, more = space.journal.page(after=after, limit=limit, max_bytes=JOURNAL_PAGE_BYTES, path=path)
    return {
        "namespace": space.name,
        "entries": [e.as_dict() for e in entries],
        "next_after": entries[-1].seq if entries else after,
        "more": more,
    }


def _query_int(request: Request, name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    value = int(text) if text.isdecimal() and len(text) <= 18 else None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        upper = "" if maximum is None else f" and at most {maximum}"
        raise AdminError(name, f"{name}={text!r} must be a whole number of at least {minimum}{upper}")
    return value


async def tasks(request: Request) -> dict[str, Any]:
    space = namespace_of(request)
    return {"namespace": space.name, "tasks": space.tasks.describe()}


async def reset(request: Request) -> dict[str, Any]:
    scope = (await _json_object(request)).get("scope", request.query_params.get("scope", "all"))
    if scope not in RESET_SCOPES:
        raise AdminError("scope", f"scope={scope!r} must be one of {', '.join(RESET_SCOPES)}")
    space = namespace_of(request)
    backend_of(request).reset(scope, namespace=space.name)
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
