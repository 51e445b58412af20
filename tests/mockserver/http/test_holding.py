"""No request holds the fake: a held answer ends when its client leaves, and every one ends when the server drains.

These drive the app as a server would, through raw ASGI, so the test decides when the client disconnects.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from mockserver import Config, VirtualClock, create_app
from mockserver.http.shutdown import Drain
from tests.conftest import TOKEN, valid_body

pytestmark = pytest.mark.anyio


class Client:
    """One ASGI request whose client stays until `leave()`; `sent` collects what the app sent it."""

    def __init__(self, app: Starlette, path: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.app, self.path, self.body = app, path, json.dumps(body).encode()
        self.headers = [(b"authorization", f"Bearer {TOKEN}".encode()), (b"content-type", b"application/json")]
        self.headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.sent: list[dict[str, Any]] = []
        self.finished = False
        self._gone = anyio.Event()
        self._body_sent = False

    def leave(self) -> None:
        self._gone.set()

    async def run(self) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": self.headers,
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
        }
        await self.app(scope, self._receive, self._send)
        self.finished = True

    @property
    def status(self) -> int | None:
        return next((m["status"] for m in self.sent if m["type"] == "http.response.start"), None)

    def json(self) -> Any:
        return json.loads(b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body"))

    async def _receive(self) -> dict[str, Any]:
        if not self._body_sent:
            self._body_sent = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the app until `condition` holds; no wall-clock waiting."""
    with anyio.fail_after(10):
        while not condition():
            await anyio.sleep(0)


@pytest.fixture
def held_app() -> tuple[Starlette, VirtualClock]:
    clock = VirtualClock()
    return create_app(Config(latency="fixed:600s"), clock=clock), clock


async def in_flight(client: Client, then: Callable[[], Awaitable[None]]) -> None:
    async with anyio.create_task_group() as group:
        group.start_soon(client.run)
        await then()


async def test_a_held_answer_ends_when_its_client_disconnects(held_app: tuple[Starlette, VirtualClock]) -> None:
    app, clock = held_app
    client = Client(app, "/getImagetoImage", valid_body(), {})

    async def leave_while_held() -> None:
        await until(lambda: clock.sleepers == 1)
        client.leave()
        await until(lambda: client.finished)

    await in_flight(client, leave_while_held)

    # Nobody waits for the 600 s any more, and the journal says no answer reached the client.
    assert clock.sleepers == 0
    assert [e.status for e in app.state.backend.default.journal] == [None]


async def test_every_held_answer_ends_with_503_when_the_server_drains(held_app: tuple[Starlette, VirtualClock]) -> None:
    app, clock = held_app
    clients = [Client(app, "/getImagetoImage", valid_body(), {}) for _ in range(3)]

    async with anyio.create_task_group() as group:
        for client in clients:
            group.start_soon(client.run)
        await until(lambda: clock.sleepers == 3)
        drain: Drain = app.state.drain
        drain.start()

    assert [c.status for c in clients] == [503, 503, 503]
    assert clients[0].json()["error"] == "Service Unavailable"
    assert "shutting down" in clients[0].json()["error_data"]
    assert clock.sleepers == 0


async def test_a_hung_request_ends_when_its_client_disconnects_or_the_server_drains(
    held_app: tuple[Starlette, VirtualClock],
) -> None:
    app, _ = held_app
    left = Client(app, "/getImage", {"id": "x"}, {"X-Mock-Fault": "hang"})
    stayed = Client(app, "/getImage", {"id": "x"}, {"X-Mock-Fault": "hang"})
    drain: Drain = app.state.drain

    async with anyio.create_task_group() as group:
        group.start_soon(left.run)
        group.start_soon(stayed.run)
        await until(lambda: drain.waiting == 2)
        left.leave()
        await until(lambda: left.finished)
        drain.start()

    assert left.sent == [] and stayed.status == 503


async def test_a_request_arriving_while_the_server_drains_is_answered_503_at_once() -> None:
    app = create_app(Config(latency="fixed:600s"), clock=VirtualClock())
    app.state.drain.start()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers={"Authorization": "Bearer t"}) as c:
        response = await c.post("/getImagetoImage", json=valid_body())

    assert response.status_code == 503


async def test_slow_body_arrives_whole_after_one_advance_of_its_ten_seconds(
    held_app: tuple[Starlette, VirtualClock],
) -> None:
    app, clock = held_app
    client = Client(app, "/getImage", {"id": "x"}, {"X-Mock-Fault": "slow_body"})

    async def advance_once() -> None:
        await until(lambda: clock.sleepers == 1)
        clock.advance(10)
        await until(lambda: client.finished)

    await in_flight(client, advance_once)

    assert client.status == 200 and client.json()["status"] == "PENDING"
    assert len([m for m in client.sent if m["type"] == "http.response.body"]) > 1  # dribbled, not buffered
