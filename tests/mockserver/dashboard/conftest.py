"""The fake with a dashboard, driven through Starlette's test client (no browser, no socket)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockserver import Config, VirtualClock, create_app
from tests.conftest import valid_body

with warnings.catch_warnings():
    # Starlette's test client warns, once at import, that it prefers httpx2 to the httpx the fake depends on.
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from starlette.testclient import TestClient

BASE = "http://127.0.0.1:8000"
SUBMIT = "/api/v1/studio/getImagetoImage"
STATUS = "/api/v1/studio/getImage"
XSS_PROMPTS = ("<script>window.pwned=1</script>", '"><img src=x onerror="window.pwned=1">')
AUTH = {"Authorization": "Bearer caller-token"}


@pytest.fixture
def make_client(clock: VirtualClock) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(config: Config | None = None) -> TestClient:
        client = TestClient(create_app(config or Config(seed=1), clock=clock), base_url=BASE)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def submit(client: TestClient, **fields: Any) -> Any:
    return client.post(SUBMIT, json=valid_body(**fields), headers=AUTH)
