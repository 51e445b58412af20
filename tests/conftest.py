"""Shared fixtures: the fake in-process, a virtual clock, and a valid request body."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mockserver import Config, VirtualClock, create_app
from mockserver.backend import Backend
from strategies import load_profile

# Registered and loaded here, in the rootdir conftest, so no test runs under Hypothesis's default 200 ms
# deadline (a busy machine must not fail the suite); `pytest --hypothesis-profile=thorough` still wins.
load_profile("ci" if os.environ.get("CI") else "dev")

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def valid_body(**overrides: Any) -> dict[str, Any]:
    """The request production's own load test sends, with any field replaced."""
    body: dict[str, Any] = {
        "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
        "image": "https://example.com/face.jpg",
        "prompt": "a portrait in a sunlit garden",
        "batch": 1,
        "height": 1024,
        "width": 1024,
        "num_inference_steps": 30,
        "guidance_scale": 7.5,
        "strength": 1,
    }
    body.update(overrides)
    return body


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def make_app(clock: VirtualClock) -> Callable[..., Starlette]:
    def make(config: Config | None = None, **kwargs: Any) -> Starlette:
        return create_app(config or Config(seed=1), clock=clock, **kwargs)

    return make


@pytest.fixture
def app(make_app: Callable[..., Starlette]) -> Starlette:
    return make_app()


@pytest.fixture
def backend(app: Starlette) -> Backend:
    backend: Backend = app.state.backend
    return backend


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        yield client
