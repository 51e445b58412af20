"""The client-side journal: each exchange as the client saw it, read by the same verdicts as the fake's journal."""

from __future__ import annotations

import httpx
import pytest

from mockserver import Config, create_app
from mockserver.testing.client_journal import ClientJournal, RecordingAsyncTransport, RecordingTransport
from mockserver.testing.inprocess import AsyncTransport
from mockserver.testing.remote import RemoteApi

TOKEN = "sk-client-side-secret"


def fake() -> AsyncTransport:
    return AsyncTransport(create_app(Config(clock="virtual")))


@pytest.mark.anyio
async def test_each_exchange_is_journalled_with_a_stand_in_for_the_token() -> None:
    recorded = ClientJournal()
    transport = RecordingAsyncTransport(fake(), recorded)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as client:
        reply = await client.post("/getImage", json={"id": "x"})

    entry = recorded.journal.last
    assert (entry.method, entry.path, entry.status, entry.fault) == ("POST", "/getImage", 200, None)
    assert entry.request_body == {"id": "x"} and entry.response_body == reply.json()
    assert entry.token_id is not None and TOKEN not in repr(entry)
    assert entry.finished_at >= entry.started_at


@pytest.mark.anyio
async def test_the_verdicts_read_a_client_side_journal() -> None:
    api = RemoteApi("http://api")
    transport = RecordingAsyncTransport(fake(), api.recorded)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        for _ in range(2):
            await client.post("/getImage", json={"id": "task-1"})

    api.assert_called("/getImage", times=2)
    with pytest.raises(AssertionError, match=r"assert_polls_no_faster_than\(1.0\) failed"):
        api.assert_polls_no_faster_than(1.0)


def test_a_request_a_hook_refuses_is_neither_sent_nor_journalled() -> None:
    sent: list[httpx.Request] = []
    recorded = ClientJournal()

    def refuse(request: httpx.Request) -> None:
        raise RuntimeError("no")

    recorded.sending.append(refuse)
    inner = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    with httpx.Client(transport=RecordingTransport(inner, recorded)) as client, pytest.raises(RuntimeError):
        client.get("http://api/x")

    assert sent == [] and len(recorded.journal) == 0


def test_a_transport_error_is_journalled_with_no_status() -> None:
    recorded = ClientJournal()

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with httpx.Client(transport=RecordingTransport(httpx.MockTransport(unreachable), recorded)) as client:
        with pytest.raises(httpx.ConnectError):
            client.get("http://api/x")

    assert recorded.journal.last.status is None


def test_the_client_reads_an_encoded_answer_once_and_the_journal_its_decoded_body() -> None:
    import gzip

    body = b'{"status": "PENDING"}'
    answer = httpx.Response(200, headers={"content-encoding": "gzip", "content-type": "application/json"},
                            content=gzip.compress(body))  # fmt: skip
    recorded = ClientJournal()
    with httpx.Client(transport=RecordingTransport(httpx.MockTransport(lambda r: answer), recorded)) as client:
        reply = client.get("http://api/x")

    assert reply.json() == {"status": "PENDING"}
    assert recorded.journal.last.response_body == {"status": "PENDING"}
