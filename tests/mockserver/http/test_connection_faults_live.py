"""Connection faults over a real socket: in-process transports buffer bodies and have no connection to break."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mockserver import Config
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH

STATUS_BODY = {"id": "x"}


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    # time_scale shrinks the simulated 10 s dribble of slow_body to 10 ms of real time.
    with LiveServer(Config(seed=1, time_scale=0.001)) as server:
        yield server


@pytest.fixture
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, headers=AUTH, timeout=5) as client:
        yield client
        # Whatever the fault did, the server answers the next request normally.
        assert client.post("/getImage", json=STATUS_BODY).status_code == 200


def with_fault(fault: str) -> dict[str, str]:
    return {"X-Mock-Fault": fault}


def test_reset_breaks_the_connection(client: httpx.Client) -> None:
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.post("/getImage", json=STATUS_BODY, headers=with_fault("reset"))


def test_empty_response_closes_without_a_byte(client: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        client.post("/getImage", json=STATUS_BODY, headers=with_fault("empty_response"))


def test_malformed_json_arrives_as_a_broken_body(client: httpx.Client) -> None:
    response = client.post("/getImage", json=STATUS_BODY, headers=with_fault("malformed_json"))
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_hang_holds_the_request_until_the_client_times_out(live: LiveServer) -> None:
    with httpx.Client(base_url=live.url, headers=AUTH, timeout=0.3) as client:
        with pytest.raises(httpx.ReadTimeout):
            client.post("/getImage", json=STATUS_BODY, headers=with_fault("hang"))


def test_slow_body_arrives_in_many_pieces_and_whole() -> None:
    # 20 pieces 5 ms apart (10 simulated seconds at time_scale 0.01): far enough apart to arrive separately.
    with (
        LiveServer(Config(seed=1, time_scale=0.01)) as server,
        httpx.Client(base_url=server.url, headers=AUTH) as client,
    ):
        with client.stream("POST", "/getImage", json=STATUS_BODY, headers=with_fault("slow_body")) as response:
            pieces = list(response.iter_raw())
    assert len(pieces) > 2
    assert b"".join(pieces).startswith(b'{"time_required"')


def test_reset_on_submit_still_runs_the_job(live: LiveServer, client: httpx.Client) -> None:
    body = {
        "app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "image": "https://example.com/f.jpg", "prompt": "p", "batch": 1,
        "height": 512, "width": 512, "num_inference_steps": 5, "guidance_scale": 5, "strength": 0.5, "celery": True,
    }  # fmt: skip
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        client.post("/getImagetoImage", json=body, headers=with_fault("reset"))
    tasks = client.get("/__admin/tasks").json()["tasks"]
    assert len(tasks) >= 1
    entry = client.get("/__admin/journal", params={"path": "/getImagetoImage"}).json()["entries"][-1]
    assert (entry["fault"], entry["status"]) == ("reset", None)
