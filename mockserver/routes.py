"""HTTP for the fake: read the request, call the backend, render the envelope."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from contracts import contract_json, max_request_bytes
from mockserver import auth, envelope, namespaces, recording
from mockserver.backend import Backend, Reply, Steering
from mockserver.bodies import BodyTooLarge, ClientGone, read_body
from mockserver.connection_faults import fault_response
from mockserver.decoding import InvalidJson, parse_object
from mockserver.faults import FaultError, header_fault
from mockserver.holding import Drain, hold, shutting_down
from mockserver.images import MEDIA_TYPES, render
from mockserver.latency import LatencyError, parse_latency

PREFIXES = ("", "/api/v1/studio")
# The docs spell the submit path both ways.
SUBMIT_PATHS = ("/getImagetoImage", "/getImageToImage")
STATUS_PATHS = ("/getImage",)
FAULT_HEADER, LATENCY_HEADER = "x-mock-fault", "x-mock-latency"


def reply_response(reply: Reply, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(reply.body, status_code=reply.status_code, headers={**reply.headers, **(headers or {})})


def _bad_request(error: str, detail: str) -> JSONResponse:
    return reply_response(Reply(400, envelope.failed(error=error, error_data=detail)))


async def submit(request: Request) -> Response:
    return await _operation(request, "submit")


async def status(request: Request) -> Response:
    return await _operation(request, "status")


async def _operation(request: Request, operation: str) -> Response:
    backend: Backend = request.app.state.backend
    # Authenticated first: only a caller the server accepts may create a namespace.
    failure = auth.check(request.headers, backend.config.tokens)
    if failure is not None:
        headers = {"WWW-Authenticate": "Bearer"} if failure.challenge else None
        return reply_response(Reply(401, envelope.failed(error=failure.error, error_data=failure.error_data)), headers)
    try:
        space = backend.namespaces.get(request.headers.get(namespaces.HEADER, namespaces.DEFAULT))
    except namespaces.NamespaceError as exc:
        return _bad_request("Invalid Mock Header", str(exc))
    clock = space.clock
    # Latency counts from arrival, so the fake's own work is inside the configured delay, not added to it.
    arrived = clock.now()
    recording.note_namespace(request.scope, space, arrived)
    try:
        steering = _steering(request, operation, backend.config.max_latency)
        body = parse_object(await read_body(request, max_request_bytes()))
    except ClientGone:
        recording.note_client_gone(request.scope)
        return Response(status_code=400)  # nobody is left to read it
    except BodyTooLarge as exc:
        return reply_response(Reply(413, envelope.failed(error="Payload Too Large", error_data=str(exc))))
    except InvalidJson as exc:
        return _bad_request("Invalid JSON", str(exc))
    except (FaultError, LatencyError) as exc:
        return _bad_request("Invalid Mock Header", str(exc))
    token_id = auth.token_id(request.headers)
    if operation == "submit":
        reply = backend.submit(
            body, base_url=str(request.base_url), token_id=token_id, namespace=space.name, steering=steering
        )
    else:
        reply = backend.status(body, token_id=token_id, namespace=space.name, steering=steering)
    recording.note_fault(request.scope, reply.fault)
    drain: Drain = request.app.state.drain
    ending = await hold(clock, arrived + reply.delay - clock.now(), request.receive, drain)
    if ending == "disconnected":
        recording.note_client_gone(request.scope)
    elif ending == "draining":
        return shutting_down()
    if reply.connection is not None:
        return fault_response(reply.connection, json.dumps(reply.body).encode(), clock, drain)
    return reply_response(reply)


def _steering(request: Request, operation: str, max_latency: float) -> Steering:
    fault = request.headers.get(FAULT_HEADER)
    latency = request.headers.get(LATENCY_HEADER)
    if fault is not None:
        header_fault(fault, "submit" if operation == "submit" else "status")
    if latency is not None:
        parse_latency(latency, limit=max_latency)
    return Steering(fault=fault, latency=latency)


async def output(request: Request) -> Response:
    backend: Backend = request.app.state.backend
    image = backend.output(request.path_params["name"])
    if image is None:
        reply = Reply(404, envelope.failed(error="Not Found", error_data="No output image at this URL."))
        return reply_response(reply)
    # Encoding a large image takes up to a few hundred ms of CPU: off the event loop, so polls keep flowing.
    return Response(await run_in_threadpool(render, image), media_type=MEDIA_TYPES[image.kind])


async def openapi(request: Request) -> Response:
    return Response(contract_json(), media_type="application/json")


def api_routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    for prefix in PREFIXES:
        routes += [Route(prefix + path, submit, methods=["POST"]) for path in SUBMIT_PATHS]
        routes += [Route(prefix + path, status, methods=["POST"]) for path in STATUS_PATHS]
    routes += [
        Route("/outputs/{name:path}", output, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    return routes
