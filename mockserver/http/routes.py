"""HTTP for the fake: read the request, call the backend, render the envelope."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.spec.schema import STATUS, SUBMIT, base_path, contract_json, max_request_bytes, served_paths
from mockserver.behaviour.clock import Clock
from mockserver.behaviour.faults import FaultError, header_fault
from mockserver.behaviour.latency import LatencyError, parse_latency
from mockserver.http import journal_recorder as recording
from mockserver.http import request_facts as _request
from mockserver.http.body_reader import BodyTimedOut, BodyTooLarge, ClientGone, read_body
from mockserver.http.connection_faults import fault_response
from mockserver.http.holding import Drain, blocked_caller, hold, shutting_down
from mockserver.http.render_budget import RENDERS, RETRY_AFTER_SECONDS, ClientLeft, RenderBusy, ServerDraining
from mockserver.sim import namespaces
from mockserver.sim.backend import Backend, Steering
from mockserver.wire import envelope
from mockserver.wire.envelope import KEYS, Reply

# Served at the root and under production's prefix, in every spelling the contract names.
PREFIXES = ("", base_path())
FAULT_HEADER, LATENCY_HEADER = "x-mock-fault", "x-mock-latency"
_CLOSE = {"connection": "close"}


def reply_response(reply: Reply, headers: dict[str, str] | None = None, *, keys: tuple[str, ...] = KEYS) -> Response:
    """The reply as JSON, its envelope cut to `keys` (a fidelity profile's; the contract's eight by default)."""
    if reply.raw is not None:
        return Response(reply.raw, reply.status_code, {**reply.headers, **(headers or {})}, reply.media_type)
    body = envelope.encode(envelope.shaped(reply.body, keys))
    if not reply.headers and not headers and reply.status_code >= 200 and reply.status_code not in (204, 304):
        return _JsonResponse(body, reply.status_code)
    return Response(body, reply.status_code, {**reply.headers, **(headers or {})}, "application/json")


class _JsonResponse(Response):
    """What `Response(body, status, media_type="application/json")` sends, for the answer of almost every
    request: its two headers written at once rather than derived again on each."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int) -> None:
        self.body, self.status_code, self.background = body, status_code, None
        self.raw_headers = [(b"content-length", b"%d" % len(body)), (b"content-type", b"application/json")]


def _bad_request(error: str, detail: str) -> Response:
    return reply_response(Reply(400, envelope.failed(error=error, error_data=detail)))


class _Operation:
    """One API operation as a plain ASGI endpoint: Starlette's function-endpoint wrapper (a second exception
    layer and a closure per request) would do nothing here, since a route raises no HTTPException."""

    def __init__(self, operation: str, backend: Backend, drain: Drain) -> None:
        # Bound here rather than read from `app.state` on each request (an attribute lookup in Python each).
        self.operation, self.backend, self.drain = operation, backend, drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await _operation(scope, receive, self.operation, self.backend, self.drain)
        await response(scope, receive, send)


async def _operation(scope: Scope, receive: Receive, operation: str, backend: Backend, drain: Drain) -> Response:
    profile = backend.profile
    headers = _request.headers(scope)
    name = headers.get(namespaces.HEADER, namespaces.DEFAULT)
    # Latency counts from arrival, so the fake's own work is inside the configured delay, not added to it.
    noted = recording.arrival(scope)
    if noted is None:
        arrival_clock = (backend.namespaces.find(name) or backend.default).clock
        arrived = arrival_clock.now()
    else:
        arrival_clock, arrived = noted[0].clock, noted[1]

    body_read: list[bytes] = []

    async def read() -> bytes:
        if not body_read:
            body_read.append(await read_body(scope, receive, max_request_bytes()))
        return body_read[0]

    try:
        if backend.replay is not None:
            replayed = await _replayed(Request(scope, receive), backend, drain, read)
            if replayed is not None:
                return replayed
        # Who checks what first (credentials or the body) is the profile's: see fidelity/answers.py.
        admitted = await profile.answers.admit(operation, headers, read, backend.config.tokens)
    except BodyTimedOut as exc:
        # The client is still there, trickling: told why, and the connection closed behind the answer.
        late = Reply(408, envelope.failed(error="Request Timeout", error_data=str(exc)), headers=_CLOSE)
        return reply_response(late, keys=profile.envelope_keys)
    except ClientGone:
        recording.note_client_gone(scope)
        return Response(status_code=400)  # nobody is left to read it
    except BodyTooLarge as exc:
        return reply_response(Reply(413, envelope.failed(error="Payload Too Large", error_data=str(exc))))
    if isinstance(admitted, Reply):
        return reply_response(admitted, keys=profile.envelope_keys)
    try:
        # Only a caller the server accepted may create a namespace.
        space = backend.namespaces.get(name)
        steering = _steering(headers, operation, backend.config.max_latency)
    except (namespaces.NamespaceError, FaultError, LatencyError) as exc:
        return _bad_request("Invalid Mock Header", str(exc))
    clock = space.clock
    if clock is not arrival_clock:  # a namespace just made, with a virtual clock of its own
        arrived = clock.now()
    recording.note_namespace(scope, space, arrived)
    token_id = _request.token_id(scope)
    if operation == SUBMIT:
        reply = backend.submit(
            admitted, base_url=_base_url(scope), token_id=token_id, namespace=space.name, steering=steering
        )
    else:
        reply = backend.status(admitted, token_id=token_id, namespace=space.name, steering=steering)
    recording.note_fault(scope, reply.fault)
    until = arrived + reply.delay
    if until > clock.now() or drain.started:  # else there is nothing to wait for
        stopped = await _held(scope, receive, clock, until, drain)
        if stopped is not None:
            return stopped
    if reply.connection is not None:
        body = json.dumps(envelope.shaped(reply.body, profile.envelope_keys)).encode()
        return fault_response(reply.connection, body, clock, drain)
    return reply_response(reply, keys=profile.envelope_keys)


async def _replayed(
    request: Request, backend: Backend, drain: Drain, read: Callable[[], Awaitable[bytes]]
) -> Response | None:
    """The recorded answer to this request, held as long as it took; None to let the model answer."""
    assert backend.replay is not None
    space = backend.namespaces.find(request.headers.get(namespaces.HEADER, namespaces.DEFAULT)) or backend.default
    arrived = space.clock.now()
    reply = backend.replay.answer(
        method=request.method,
        path=request.url.path,
        authorization=request.headers.get("authorization"),
        raw=await read(),
        now=arrived,
        base_url=backend.config.public_url or str(request.base_url),
        rng=space.rng,
        outputs=backend.outputs,
        style=backend.profile.outputs,
    )
    if reply is None:
        return (
            reply_response(backend.replay.unmatched(request.method, request.url.path))
            if backend.replay.strict
            else None
        )
    recording.note_namespace(request.scope, space, arrived)
    recording.note_fault(request.scope, reply.fault)
    delay = reply.delay
    steered = request.headers.get(LATENCY_HEADER)
    if steered is not None:
        # X-Mock-Latency replaces the recorded timing, as it replaces the model's.
        try:
            delay = parse_latency(steered, limit=backend.config.max_latency).longest
        except LatencyError as exc:
            return _bad_request("Invalid Mock Header", str(exc))
    return await _held(request.scope, request.receive, space.clock, arrived + delay, drain) or reply_response(reply)


async def _held(scope: Scope, receive: Receive, clock: Clock, until: float, drain: Drain) -> Response | None:
    """Hold the request until `until` on `clock`: None when the time came (or the client left, and nobody
    reads the answer), the shutdown answer when the server drains first."""
    ending = await hold(clock, until - clock.now(), receive, drain, blocked_caller(scope))
    if ending == "disconnected":
        recording.note_client_gone(scope)
    return shutting_down() if ending == "draining" else None


_NOT_STEERED = Steering()


def _base_url(scope: Scope) -> str:
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    host = _request.headers(scope).get("host")
    server = scope.get("server")
    # A server may be a list (Starlette's TestClient): a tuple, to be a cache key.
    return _base_url_of(scope.get("scheme", "http"), None if server is None else tuple(server), root_path, host)


# Asked with the same few values on every request (bounded, since the Host header is the client's to choose).
@functools.lru_cache(maxsize=128)
def _base_url_of(scheme: str, server: tuple[str, int | None] | None, root_path: str, host: str | None) -> str:
    """`str(request.base_url)` for a request with these values (the only parts of the scope it reads)."""
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    scope: dict[str, Any] = {"type": "http", "scheme": scheme, "server": server, "root_path": root_path}
    scope.update(headers=headers, path="/", query_string=b"")
    return str(Request(scope).base_url)


def _steering(headers: Mapping[str, str], operation: str, max_latency: float) -> Steering:
    fault = headers.get(FAULT_HEADER)
    latency = headers.get(LATENCY_HEADER)
    if fault is None and latency is None:
        return _NOT_STEERED
    if fault is not None:
        header_fault(fault, "submit" if operation == SUBMIT else "status")
    if latency is not None:
        parse_latency(latency, limit=max_latency)
    return Steering(fault=fault, latency=latency)


async def output(request: Request) -> Response:
    backend: Backend = request.app.state.backend
    image = backend.output(request.path_params["name"])
    if image is None:
        reply = Reply(404, envelope.failed(error="Not Found", error_data="No output image at this URL."))
        return reply_response(reply)
    # Rendered off the event loop, a few at a time (render_budget.py), so polls keep flowing meanwhile.
    try:
        data = await RENDERS.render(image, request.receive, request.app.state.drain)
    except RenderBusy:
        return _busy()
    except ServerDraining:
        return shutting_down()
    except ClientLeft:
        return Response(status_code=400)  # nobody is left to read it
    return _ImageResponse(data, image.spec.media_type)


class _ImageResponse(Response):
    """An image, counted against the bytes of answers being sent until it is out (or refused if they are full)."""

    def __init__(self, data: bytes, media_type: str) -> None:
        super().__init__(data, media_type=media_type)
        self.data = data

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            with RENDERS.sending(self.data):
                await super().__call__(scope, receive, send)
        except RenderBusy:
            await _busy()(scope, receive, send)


def _busy() -> Response:
    detail = "qolaba-mock is rendering as many output images as it allows; retry after the time in Retry-After."
    busy = Reply(503, envelope.failed(error="Service Unavailable", error_data=detail))
    return reply_response(busy, {"retry-after": str(RETRY_AFTER_SECONDS)})


async def openapi(request: Request) -> Response:
    return Response(contract_json(), media_type="application/json")


def api_endpoints(backend: Backend, drain: Drain) -> dict[str, ASGIApp]:
    """Each path the API answers `POST` at, and its endpoint."""
    return {
        prefix + path: endpoint
        for prefix in PREFIXES
        for endpoint in (_Operation(SUBMIT, backend, drain), _Operation(STATUS, backend, drain))
        for path in served_paths(endpoint.operation)
    }


def api_routes(endpoints: dict[str, ASGIApp]) -> list[BaseRoute]:
    routes: list[BaseRoute] = [Route(path, endpoint, methods=["POST"]) for path, endpoint in endpoints.items()]
    routes += [
        Route("/outputs/{name:path}", output, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    return routes


class ApiDispatch:
    """The innermost middleware: an API call goes straight to its endpoint, everything else to the router.

    The router would reach the same endpoint, through a route match and an exception layer that an API
    endpoint never needs (it raises no HTTPException); a method or path it does not serve still gets the
    router's 404 or 405, and an app mounted under a root path takes the router's way too.
    """

    def __init__(self, app: ASGIApp, endpoints: dict[str, ASGIApp]) -> None:
        self.app, self.endpoints = app, endpoints

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            endpoint = self.endpoints.get(scope["path"])
            if endpoint is not None:
                await endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)
