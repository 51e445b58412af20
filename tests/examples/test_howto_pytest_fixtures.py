"""The README's "Use it in pytest" examples, run as tests: the shortest working use of each fixture.

Self-contained on purpose: tests/mockserver/test_pytest_plugin.py runs this file as a user's test file under pytester.
"""

from __future__ import annotations

import httpx
import pytest
import requests

from mockserver.testing.handle import QolabaMock

pytestmark = pytest.mark.anyio

BODY = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "image": "https://example.com/face.jpg", "prompt": "a portrait",
    "batch": 1, "height": 512, "width": 512, "num_inference_steps": 30, "guidance_scale": 7.5, "strength": 1,
}  # fmt: skip
API = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"


@pytest.mark.qolaba(latency="fixed:40s")
async def test_qolaba_client(qolaba_client: httpx.AsyncClient, qolaba_mock: QolabaMock) -> None:
    task = (await qolaba_client.post("/getImagetoImage", json={**BODY, "celery": True})).json()
    qolaba_mock.advance(40)  # virtual time: the 40 s job is done, no test waits
    done = (await qolaba_client.post("/getImage", json={"id": task["task_id"]})).json()
    assert done["status"] == "SUCCESS"
    qolaba_mock.assert_called("/getImage", times=1)


async def test_qolaba_respx(qolaba_respx: object) -> None:
    async with httpx.AsyncClient(headers={"Authorization": "Bearer sk-test"}) as client:  # your app's own client
        reply = await client.post(f"{API}/getImagetoImage", json=BODY)
    assert reply.json()["status"] == "SUCCESS"


def test_qolaba_respx_with_a_sync_client(qolaba_respx: object) -> None:
    reply = httpx.post(f"{API}/getImagetoImage", json=BODY, headers={"Authorization": "Bearer sk-test"})
    assert len(reply.json()["output"]["result"]) == 1


def test_qolaba_server(qolaba_server: QolabaMock) -> None:
    reply = requests.post(f"{qolaba_server.url}/getImage", json={"id": "x"}, headers={"Authorization": "Bearer t"})
    assert reply.json()["status"] == "PENDING"  # unknown ids read PENDING forever, as in production


@pytest.mark.qolaba(faults=["http_503@status"])
async def test_qolaba_marker(qolaba_client: httpx.AsyncClient) -> None:
    assert (await qolaba_client.post("/getImage", json={"id": "x"})).status_code == 503


async def test_qolaba_mock_verdicts(qolaba_client: httpx.AsyncClient, qolaba_mock: QolabaMock) -> None:
    qolaba_mock.set_fault("http_429:first:1")
    assert (await qolaba_client.post("/getImage", json={"id": "x"})).headers["Retry-After"] == "2"
    qolaba_mock.advance(2)  # wait as told, then ask again
    await qolaba_client.post("/getImage", json={"id": "x"})
    qolaba_mock.assert_honoured_retry_after()
    qolaba_mock.assert_polls_no_faster_than(0.5)
