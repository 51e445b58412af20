"""The one recording point: each request's entry holds what its endpoint did with it (the namespace it used,
the fault that fired, what came of its body, whether its client stayed), and only API traffic is recorded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from contracts.spec.schema import max_request_bytes
from mockserver import Config, VirtualClock, create_app
from mockserver.sim.journal import Entry
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio

KEEP = 64


def app() -> Any:
    return create_app(Config(seed=1, journal_body_bytes=KEEP), clock=VirtualClock())


def journal(app: Any, namespace: str = "default") -> list[Entry]:
    return list(app.state.backend.namespaces.get(namespace).journal)


async def streamed(app: Any, chunks: list[bytes], *, then_leave: bool = False) -> list[dict[str, Any]]:
    """POST /getImagetoImage with a body sent in `chunks` and no Content-Length (the client disconnects after
    the last chunk, without finishing its body, with `then_leave`); what the app sent back."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": chunk, "more_body": then_leave or index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    if then_leave:
        messages.append({"type": "http.disconnect"})
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    headers = [(b"host", b"testserver"), (b"authorization", AUTH["Authorization"].encode())]
    scope = {"type": "http", "method": "POST", "path": "/getImagetoImage", "headers": headers, "query_string": b""}
    await app({**scope, "scheme": "http", "server": ("testserver", 80), "root_path": ""}, receive, send)
    return sent


async def test_a_body_streamed_past_the_limit_is_journalled_by_its_start_and_its_size_with_the_413() -> None:
    fake = app()
    chunk = b"x" * (max_request_bytes() // 2 + 1)

    sent = await streamed(fake, [chunk, chunk])

    [entry] = journal(fake)
    assert sent[0]["status"] == entry.status == 413
    assert entry.request.size == 2 * len(chunk)
    assert entry.request.kept == b"x" * KEEP


async def test_a_client_that_leaves_before_its_body_is_in_is_journalled_with_no_status_and_what_came() -> None:
    fake = app()

    await streamed(fake, [b'{"prompt": "'], then_leave=True)

    [entry] = journal(fake)
    assert entry.status is None
    assert (entry.request.kept, entry.request.size) == (b'{"prompt": "', 12)


async def test_an_entry_is_in_the_namespace_the_call_created_and_names_the_fault_it_asked_for() -> None:
    fake = app()
    headers = {**AUTH, "X-Mock-Namespace": "worker-1", "X-Mock-Fault": "http_500"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake), base_url="http://testserver") as client:
        answer = await client.post("/getImagetoImage", json=valid_body(), headers=headers)

    [entry] = journal(fake, "worker-1")
    assert answer.status_code == entry.status == 500
    assert entry.fault == "http_500" and entry.namespace == "worker-1"
    assert journal(fake) == []


async def test_a_call_refused_before_its_namespace_exists_is_journalled_in_the_default_one() -> None:
    # Only an admitted caller may create a namespace; the refusal is still on record.
    fake = app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake), base_url="http://testserver") as client:
        answer = await client.post("/getImagetoImage", json=valid_body(), headers={"X-Mock-Namespace": "nobody"})

    [entry] = journal(fake)
    assert answer.status_code == entry.status == 401
    assert fake.state.backend.namespaces.find("nobody") is None


async def test_under_a_root_path_api_calls_are_journalled_and_admin_calls_are_not() -> None:
    fake = app()
    transport = httpx.ASGITransport(app=fake, root_path="/proxied")
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        answer = await client.post("/proxied/getImagetoImage", json=valid_body())
        listed = await client.get("/proxied/__admin/journal")

    assert answer.status_code == listed.status_code == 200
    assert [(entry.path, entry.status) for entry in journal(fake)] == [("/proxied/getImagetoImage", 200)]


async def test_a_request_the_api_does_not_serve_is_journalled_as_it_arrived() -> None:
    fake = app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake), base_url="http://testserver") as client:
        missing = await client.post("/nowhere", content=b"{}", headers=AUTH)
        wrong_method = await client.get("/getImagetoImage", headers=AUTH)

    assert [(entry.method, entry.path, entry.status, entry.fault) for entry in journal(fake)] == [
        ("POST", "/nowhere", missing.status_code, None),
        ("GET", "/getImagetoImage", wrong_method.status_code, None),
    ]
    assert (missing.status_code, wrong_method.status_code) == (404, 405)
