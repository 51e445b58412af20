"""The admin API under `/__admin/`: the control surface for tests and tools."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from mockserver.backend import Backend


async def health(request: Request) -> JSONResponse:
    backend: Backend = request.app.state.backend
    return JSONResponse({"status": "ok", "seed": backend.config.seed, "tasks": len(backend.tasks)})


routes: list[BaseRoute] = [Route("/health", health, methods=["GET"])]
