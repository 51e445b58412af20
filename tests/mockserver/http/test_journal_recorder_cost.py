"""What one request costs the fake, counted, never timed: the fake runs thousands of times per property-based
test run, so its own work per request is every user's test time (bench/ has the timings)."""

from __future__ import annotations

import gc
import hmac
import json
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import orjson
import pytest
from starlette.datastructures import Headers
from starlette.routing import Route

from mockserver import Config, QolabaMock, VirtualClock, create_app
from mockserver.testing.inprocess import AsyncTransport
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio


@contextmanager
def counting(owner: Any, name: str) -> Iterator[list[int]]:
    """Count the calls to `owner.name` while the block runs."""
    calls = [0]
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(owner, name, counted)
        yield calls


@pytest.fixture
async def client() -> Any:
    transport = httpx.ASGITransport(app=create_app(Config(seed=1), clock=VirtualClock()))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        yield client


async def test_a_callers_token_is_hashed_once_however_many_requests_carry_it(client: httpx.AsyncClient) -> None:
    # The route and the journal both need the caller's token id, on every request the caller sends.
    token = {"Authorization": f"Bearer {uuid.uuid4()}"}
    with counting(hmac, "new") as hashed:
        for _ in range(3):
            await client.post("/getImagetoImage", json=valid_body(), headers=token)

    assert hashed == [1]


async def test_a_request_decodes_its_headers_once_for_every_layer(client: httpx.AsyncClient) -> None:
    # Host guard, journal and route each looked headers up through Starlette's `Headers`, a scan per lookup.
    with counting(Headers, "__getitem__") as looked_up, counting(Headers, "__init__") as built:
        await client.post("/getImagetoImage", json=valid_body())

    assert looked_up == built == [0]


async def test_answers_are_written_and_read_without_pythons_json_module(client: httpx.AsyncClient) -> None:
    with counting(json, "dumps") as encoded, counting(json, "loads") as decoded:
        await client.post("/getImagetoImage", json=valid_body())
        queued = await client.post("/getImagetoImage", json=valid_body(celery=True))
        poll = await client.post("/getImage", json={"id": orjson.loads(queued.content)["task_id"]})

    assert poll.json()["status"] == "SUCCESS"
    assert encoded == decoded == [0]


async def test_a_journal_entry_holds_well_under_two_kilobytes(client: httpx.AsyncClient) -> None:
    # orjson's bytes keep their spare buffer (kilobytes): an entry holding one unchanged would weigh ~4.5 KB,
    # and a journal keeps ten thousand of them.
    journal = client._transport.app.state.backend.default.journal  # type: ignore[attr-defined]
    await client.post("/getImagetoImage", json=valid_body())
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(200):
            await client.post("/getImagetoImage", json=valid_body())
        gc.collect()
        with_entries = tracemalloc.get_traced_memory()[0]
        journal.clear()
        gc.collect()
        per_entry = (with_entries - tracemalloc.get_traced_memory()[0]) / 200
    finally:
        tracemalloc.stop()

    assert 0 < per_entry < 2_000


async def test_an_api_call_reaches_its_endpoint_without_matching_routes(client: httpx.AsyncClient) -> None:
    # Route matching and Starlette's exception layer do nothing for an API call: the endpoint is looked up once.
    with counting(Route, "matches") as matched:
        submitted = await client.post("/getImagetoImage", json=valid_body())
    with counting(Route, "matches") as matched_for_get:
        wrong_method = await client.get("/getImagetoImage")

    assert submitted.status_code == 200 and matched == [0]
    # Another method still gets the router's answer.
    assert wrong_method.status_code == 405 and matched_for_get[0] > 0


async def test_an_app_served_under_a_root_path_still_answers_the_api() -> None:
    transport = httpx.ASGITransport(app=create_app(Config(seed=1)), root_path="/proxied")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        answer = await client.post("/proxied/getImagetoImage", json=valid_body())

    assert answer.status_code == 200
    assert answer.json()["status"] == "SUCCESS"


async def test_an_in_process_call_builds_one_response_and_hands_the_body_over_once() -> None:
    # httpx's ASGITransport feeds the body in chunks and builds a response that was then copied into another.
    mock = QolabaMock(create_app(Config(seed=1)))
    received: list[dict[str, Any]] = []
    app = mock.app

    async def watching(scope: Any, receive: Any, send: Any) -> None:
        async def watched() -> Any:
            message = await receive()
            received.append(message)
            return message

        await app(scope, watched, send)

    transport = AsyncTransport(watching)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        with counting(httpx.Response, "__init__") as built:
            answer = await client.post("/getImagetoImage", json=valid_body())

    assert answer.status_code == 200 and answer.json()["status"] == "SUCCESS"
    assert built == [1]
    assert [message["more_body"] for message in received] == [False]
