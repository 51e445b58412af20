"""Shared fixtures: the fake in-process, a virtual clock, and a valid request body."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mockserver import Config, VirtualClock, create_app
from mockserver.behaviour.fidelity.profiles import CONTRACT, Profile, register, unregister
from mockserver.sim.backend import Backend
from strategies import load_profile

# Registered and loaded here, in the rootdir conftest, so no test runs under Hypothesis's default 200 ms
# deadline (a busy machine must not fail the suite); `pytest --hypothesis-profile=thorough` still wins.
load_profile("ci" if os.environ.get("CI") else "dev")

TOKEN = "test-token"
# How long the recorded sync call in `sync_cassette` took.
RECORDED_SECONDS = 4.279
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# The conftest of a user project run by pytester: its async tests on asyncio.
ANYIO_CONFTEST = """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""


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
def extra_profile() -> Iterator[Profile]:
    """A fidelity profile of the test's own, registered for the test and removed after it: the contract's answers,
    with no `app_id` in any envelope (so it is told apart by what it answers)."""
    added = register(
        dataclasses.replace(
            CONTRACT,
            name="contract-without-app-id",
            summary="as the contract, with no app_id in any envelope (a test's own profile)",
            envelope_keys=tuple(key for key in CONTRACT.envelope_keys if key != "app_id"),
        )
    )
    try:
        yield added
    finally:
        unregister(added.name)


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


def sync_cassette(path: Path) -> Path:
    """A cassette at `path` holding one recorded sync generation of `valid_body()` that took `RECORDED_SECONDS`."""
    answer = {
        "status": "SUCCESS",
        "task_id": None,
        "output": {"result": ["https://cdn.example.com/recorded.webp"], "Has_NSFW_Content": [False]},
        "time_required": {"startup_time": 0.0, "runtime": RECORDED_SECONDS},
    }
    exchange = {
        "seq": 1,
        "at": 0.0,
        "method": "POST",
        "path": "/getImagetoImage",
        "auth": "bearer",
        "token": "t1",
        "request": {"content_type": "application/json", "json": valid_body()},
        "response": {"status": 200, "headers": {"content-type": "application/json"}, "json": answer},
        "seconds": RECORDED_SECONDS,
    }
    lines = [{"qolaba_mock_cassette": 1, "upstream": "https://api.example.com"}, exchange]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path
