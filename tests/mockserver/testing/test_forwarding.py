"""The forwarding router: calls under a base URL go on over the network to another, from sync and async clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx

from mockserver import Config
from mockserver.behaviour.clock import VirtualClock
from mockserver.server.live_server import LiveServer
from mockserver.testing.forwarding import forwarding_router, network_transports
from mockserver.testing.handle import QolabaMock

API = "https://qolaba.example.com/api/v1/studio"


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with LiveServer(Config(clock="virtual"), clock=VirtualClock(autojump=True)) as server:
        yield server


@pytest.fixture
def fake(live: LiveServer) -> Iterator[QolabaMock]:
    with QolabaMock(live) as handle:
        handle.reset()
        yield handle


def router_to(fake: QolabaMock, **options: object) -> respx.MockRouter:
    sync, async_ = network_transports()
    return forwarding_router(API, str(fake.url), transport=sync, async_transport=async_, **options)  # type: ignore[arg-type]


def test_a_sync_call_under_the_base_url_reaches_the_live_fake(fake: QolabaMock) -> None:
    with router_to(fake):
        reply = httpx.post(f"{API}/getImage", json={"id": "x"}, headers={"Authorization": "Bearer t"})

    assert reply.json()["status"] == "PENDING"
    assert [entry.path for entry in fake.journal] == ["/getImage"]


@pytest.mark.anyio
async def test_an_async_call_under_the_base_url_reaches_the_live_fake(fake: QolabaMock) -> None:
    with router_to(fake):
        async with httpx.AsyncClient(headers={"Authorization": "Bearer t"}) as client:
            reply = await client.post(f"{API}/getImage", json={"id": "x"})

    assert reply.status_code == 200
    assert fake.journal.last.request_body == {"id": "x"}


def test_a_call_elsewhere_is_refused_unless_others_pass(fake: QolabaMock) -> None:
    elsewhere = f"{fake.url}/getImage"

    with router_to(fake), pytest.raises(respx.models.AllMockedAssertionError):
        httpx.post(elsewhere, json={"id": "x"})
    with router_to(fake, others="pass"):
        reply = httpx.post(elsewhere, json={"id": "x"}, headers={"Authorization": "Bearer t"})

    assert reply.status_code == 200
    assert len(fake.journal) == 1
