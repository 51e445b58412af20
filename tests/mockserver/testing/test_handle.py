"""QolabaMock: steering the fake, its transports and respx wiring, and verdicts that name the offending calls."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from respx.models import AllMockedAssertionError

from mockserver import Config, VirtualClock, create_app
from mockserver.server.live_server import LiveServer
from mockserver.testing.handle import QolabaMock
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio

BASE = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"


@pytest.fixture
def mock() -> Iterator[QolabaMock]:
    with QolabaMock(create_app(Config(seed=1, latency="fixed:30s"), clock=VirtualClock())) as mock:
        yield mock


@pytest.fixture
async def client(mock: QolabaMock) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=mock.async_transport(), base_url="http://t", headers=AUTH) as client:
        yield client


async def submit(client: httpx.AsyncClient) -> str:
    task_id: str = (await client.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    return task_id


async def poll(client: httpx.AsyncClient, task_id: str) -> httpx.Response:
    return await client.post("/getImage", json={"id": task_id})


async def test_advance_moves_the_fakes_clock_and_finishes_tasks(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    task_id = await submit(client)
    start = mock.clock.now()

    assert mock.advance(30) == start + 30
    assert (await poll(client, task_id)).json()["status"] == "SUCCESS"


def test_advance_on_a_system_clock_says_how_to_get_a_virtual_one() -> None:
    with pytest.raises(TypeError, match=r"Config\(clock='virtual'\)"):
        QolabaMock(create_app(Config())).advance(1)


async def test_set_fault_set_latency_and_reset(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    mock.set_fault("http_503@status")
    mock.set_latency("none")
    task_id = await submit(client)
    assert (await poll(client, task_id)).status_code == 503
    assert len(mock.journal) == 2 and len(mock.tasks) == 1

    mock.reset()

    assert len(mock.journal) == 0 and len(mock.tasks) == 0
    assert mock.namespace.fault_specs == () and mock.namespace.latency_spec == "fixed:30s"


def test_set_fault_rejects_an_unknown_fault_by_name(mock: QolabaMock) -> None:
    with pytest.raises(ValueError, match="'teapot'"):
        mock.set_fault("teapot")


def test_the_sync_transport_reaches_the_same_fake(mock: QolabaMock) -> None:
    with httpx.Client(transport=mock.transport(), base_url="http://t", headers=AUTH) as client:
        task_id = client.post("/getImagetoImage", json=valid_body(celery=True)).json()["task_id"]
        mock.advance(30)
        assert client.post("/getImage", json={"id": task_id}).json()["status"] == "SUCCESS"
    mock.assert_called("/getImage", times=1)


@pytest.mark.parametrize(
    ("fault", "error"), [("reset", httpx.ReadError), ("empty_response", httpx.RemoteProtocolError)]
)
async def test_connection_faults_surface_as_httpx_errors_in_process(
    mock: QolabaMock, client: httpx.AsyncClient, fault: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": fault})
    with httpx.Client(transport=mock.transport(), base_url="http://t", headers=AUTH) as sync:
        with pytest.raises(error):
            sync.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": fault})


async def test_the_respx_router_serves_sync_and_async_clients_and_leaves_other_hosts_alone(mock: QolabaMock) -> None:
    with mock.respx_router(BASE):
        async with httpx.AsyncClient(headers=AUTH) as client:
            task_id = (await client.post(f"{BASE}/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
        mock.advance(30)
        done = httpx.post(f"{BASE}/getImage", json={"id": task_id}, headers=AUTH).json()
        image = httpx.get(done["output"]["result"][0])
        with pytest.raises(Exception, match="not mocked"):
            httpx.get("https://example.org/")

    assert done["output"]["result"][0].startswith(f"{BASE}/outputs/")
    assert image.headers["content-type"] == "image/jpeg"
    mock.assert_fetched_outputs()


def test_a_pass_through_prefix_reaches_the_network_only_up_to_a_path_boundary(mock: QolabaMock) -> None:
    with LiveServer(Config()) as real, mock.respx_router(BASE, pass_through=[f"{real.url}/__admin"]):
        health = httpx.get(f"{real.url}/__admin/health")
        with pytest.raises(AllMockedAssertionError, match="not mocked"):
            httpx.get(f"{real.url}/__adminx")

    assert health.status_code == 200


def test_respx_router_refuses_a_pass_through_that_is_not_a_list_of_http_prefixes(mock: QolabaMock) -> None:
    with pytest.raises(ValueError, match=r"pass_through='http://h' must be a list of http:// or https:// URL prefixes"):
        mock.respx_router(BASE, pass_through="http://h")


def test_a_handle_on_a_live_server_reads_its_journal() -> None:
    with LiveServer(Config(seed=1), clock=VirtualClock()) as server, QolabaMock(server) as mock:
        httpx.post(f"{server.url}/getImage", json={"id": "x"}, headers=AUTH)
        assert mock.url == server.url
        mock.assert_called("/getImage", times=1)


async def test_assert_called_and_not_called_show_the_journal(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    await submit(client)
    mock.assert_called("/getImagetoImage")
    mock.assert_not_called("/getImage")

    with pytest.raises(AssertionError) as raised:
        mock.assert_called("/getImage", times=2)

    message = str(raised.value)
    assert "assert_called('/getImage', times=2) failed" in message
    assert "expected: 2 call(s) to /getImage" in message and "observed: 0" in message
    assert "POST   /getImagetoImage" in message
    with pytest.raises(AssertionError, match="no call to /getImagetoImage"):
        mock.assert_not_called("/getImagetoImage")


async def test_polling_too_fast_is_reported_with_the_two_polls(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    task_id = await submit(client)
    await poll(client, task_id)
    mock.advance(2)
    await poll(client, task_id)
    mock.assert_polls_no_faster_than(0.5)
    mock.advance(0.25)
    await poll(client, task_id)

    with pytest.raises(AssertionError) as raised:
        mock.assert_polls_no_faster_than(1)

    message = str(raised.value)
    assert "at most 1/s per task" in message and "0.250 s apart (4.0/s)" in message
    assert "2.000  POST   /getImage" in message and "2.250  POST   /getImage" in message
    assert "0.000  POST   /getImage " not in message


async def test_retry_after_ignored_is_reported(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    mock.set_fault("http_429:first:1")
    await poll(client, "a")
    mock.advance(2)
    await poll(client, "a")
    mock.assert_honoured_retry_after()
    mock.reset()
    mock.set_fault("http_429:first:1")
    await poll(client, "a")
    mock.advance(1)
    await poll(client, "a")

    with pytest.raises(AssertionError, match=r"asked 2 s, seq \d+ came 1.000 s later"):
        mock.assert_honoured_retry_after()


async def test_the_rate_limits_retry_after_is_judged_too() -> None:
    with QolabaMock(create_app(Config(rate_limit="2/min"), clock=VirtualClock())) as mock:
        async with httpx.AsyncClient(transport=mock.async_transport(), base_url="http://t", headers=AUTH) as client:
            for _ in range(4):
                await poll(client, "a")
        with pytest.raises(AssertionError, match=r"seq 3 asked 60 s, seq 4 came 0.000 s later"):
            mock.assert_honoured_retry_after()


async def test_retry_after_is_judged_from_the_header_even_when_the_journal_keeps_no_body() -> None:
    # With no body kept, only the Retry-After header says how long the rate limit asked the client to wait.
    with QolabaMock(create_app(Config(rate_limit="2/min", journal_body_bytes=0), clock=VirtualClock())) as mock:
        async with httpx.AsyncClient(transport=mock.async_transport(), base_url="http://t", headers=AUTH) as client:
            for _ in range(4):
                await poll(client, "a")

        with pytest.raises(AssertionError, match=r"seq 3 asked 60 s, seq 4 came 0.000 s later"):
            mock.assert_honoured_retry_after()
        assert mock.journal[2].response_header("Retry-After") == "60"


async def test_polling_past_the_deadline_is_reported(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    mock.set_fault("task_lost")
    task_id = await submit(client)
    mock.advance(60)
    await poll(client, task_id)
    mock.assert_gave_up_by(60)
    mock.advance(1)
    await poll(client, task_id)

    with pytest.raises(AssertionError) as raised:
        mock.assert_gave_up_by(60)

    assert "no poll after 60 s from submit" in str(raised.value)
    assert "61.000  POST   /getImage" in str(raised.value)


async def test_a_finished_task_may_be_polled_late(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    task_id = await submit(client)
    mock.advance(300)
    await poll(client, task_id)
    mock.assert_gave_up_by(60)


async def test_resubmitting_an_accepted_request_is_a_duplicate_but_after_a_refusal_it_is_not(
    mock: QolabaMock, client: httpx.AsyncClient
) -> None:
    mock.set_fault("http_503:first:1")
    await submit(client)
    await submit(client)
    mock.assert_no_duplicate_submits()
    await submit(client)

    with pytest.raises(AssertionError, match=r"1 repeat\(s\) of an accepted request"):
        mock.assert_no_duplicate_submits()


async def test_unfetched_outputs_are_listed(mock: QolabaMock, client: httpx.AsyncClient) -> None:
    task_id = await submit(client)
    mock.advance(30)
    urls = (await poll(client, task_id)).json()["output"]["result"]

    with pytest.raises(AssertionError, match="1 never fetched: http://t/outputs/"):
        mock.assert_fetched_outputs()
    await client.get(urls[0])
    mock.assert_fetched_outputs()
