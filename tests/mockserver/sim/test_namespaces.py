"""Namespaces: made only by callers the server accepts, at most `max_namespaces`, least recently used forgotten."""

from __future__ import annotations

import httpx
import pytest

from mockserver import Config, VirtualClock, create_app
from mockserver.sim.namespaces import Namespaces
from tests.conftest import AUTH, TOKEN, valid_body

pytestmark = pytest.mark.anyio


async def test_an_unauthenticated_request_creates_no_namespace() -> None:
    app = create_app(Config(tokens=frozenset({TOKEN})), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        for index in range(50):
            headers = {"X-Mock-Namespace": f"ns{index}", "Authorization": "Bearer wrong"}
            assert (await client.post("/getImage", json={"id": "x"}, headers=headers)).status_code == 401
        await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Namespace": "ns-no-token"})

    assert [space.name for space in app.state.backend.namespaces] == ["default"]
    # The refusals are still journaled, in the default namespace.
    assert len(app.state.backend.default.journal) == 51


async def test_beyond_max_namespaces_the_least_recently_used_is_forgotten() -> None:
    app = create_app(Config(max_namespaces=3), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as client:
        for name in ("a", "b", "a", "c", "a", "d"):
            await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Namespace": name})

    # default is never forgotten; b went when c arrived, c when d did (a had been used since).
    assert sorted(space.name for space in app.state.backend.namespaces) == ["a", "d", "default"]
    assert app.state.backend.namespaces.evicted == 2


def test_reconfiguring_keeps_each_namespaces_task_store_even_when_empty() -> None:
    spaces = Namespaces(Config(), VirtualClock())
    store = spaces.get("a").tasks
    assert len(store) == 0  # an empty store is falsy; it must still be kept

    spaces.apply(Config(result_ttl=10))

    assert spaces.get("a").tasks is store and store.ttl == 10


async def test_a_namespace_header_the_server_cannot_use_is_refused_after_auth() -> None:
    app = create_app(Config(), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        bad = {"X-Mock-Namespace": "no spaces allowed"}
        unauthenticated = await client.post("/getImagetoImage", json=valid_body(), headers=bad)
        authenticated = await client.post("/getImagetoImage", json=valid_body(), headers={**bad, **AUTH})

    assert unauthenticated.status_code == 401
    assert authenticated.status_code == 400 and authenticated.json()["error"] == "Invalid Mock Header"
