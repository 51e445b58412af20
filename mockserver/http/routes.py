"""The fake's routes: the API operations (operation.py) at every path they are served at, output images, the
contract."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from contracts.spec.schema import STATUS, SUBMIT, base_path, contract_json, served_paths
from mockserver.http.operation import Operation
from mockserver.http.render_budget import RENDERS, RETRY_AFTER_SECONDS, ClientLeft, RenderBusy, ServerDraining
from mockserver.http.responses import failed_response
from mockserver.http.shutdown import Drain, shutting_down
from mockserver.sim.backend import Backend

# Served at the root and under production's prefix, in every spelling the contract names.
PREFIXES = ("", base_path())


async def output(request: Request) -> Response:
    backend: Backend = request.app.state.backend
    image = backend.output(request.path_params["name"])
    if image is None:
        return failed_response(404, "Not Found", "No output image at this URL.")
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
    return failed_response(503, "Service Unavailable", detail, {"retry-after": str(RETRY_AFTER_SECONDS)})


async def openapi(request: Request) -> Response:
    return Response(contract_json(), media_type="application/json")


def api_endpoints(backend: Backend, drain: Drain) -> dict[str, Operation]:
    """Each path the API answers `POST` at, and its endpoint."""
    return {
        prefix + path: endpoint
        for prefix in PREFIXES
        for endpoint in (Operation(SUBMIT, backend, drain), Operation(STATUS, backend, drain))
        for path in served_paths(endpoint.operation)
    }


def api_routes(endpoints: Mapping[str, ASGIApp]) -> list[BaseRoute]:
    """The router's table: every API path (`POST` only, so that another method is answered 405), the output
    images and the contract."""
    routes: list[BaseRoute] = [Route(path, endpoint, methods=["POST"]) for path, endpoint in endpoints.items()]
    routes += [
        Route("/outputs/{name:path}", output, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    return routes
