"""Portrait Booth's tests: every qolaba-mock fixture, the marker, the strategies and a replayed cassette."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import strategies
from hypothesis import given, settings
from mockserver import Config, create_app

from portrait_booth.qolaba import (
    GenerationFailed,
    Refused,
    portrait_now,
    portrait_request,
    portrait_status,
    queue_portrait,
    submit,
)

pytestmark = pytest.mark.anyio
SELFIE = "https://example.com/face.jpg"
# Recorded with `qolaba-mock record` in front of a server answering as production does; a relative path in the
# marker is read from this file's folder.
CASSETTE = "portrait_by_the_sea.jsonl"


@pytest.mark.qolaba(latency="fixed:30s", seed=5)
async def test_a_queued_portrait_is_ready_after_its_job_time(qolaba_client, qolaba_mock):
    task_id = await queue_portrait(qolaba_client, portrait_request(SELFIE, "a portrait"))
    assert await portrait_status(qolaba_client, task_id) == ("PENDING", [])

    qolaba_mock.advance(30)
    status, urls = await portrait_status(qolaba_client, task_id)

    assert status == "SUCCESS" and len(urls) == 1
    image = await qolaba_client.get(urls[0])
    assert image.headers["content-type"] == "image/jpeg" and image.content[:3] == b"\xff\xd8\xff"
    qolaba_mock.assert_called("/getImage", times=2)


@pytest.mark.qolaba(faults=["no_face"])
async def test_a_selfie_without_a_face_is_reported(qolaba_client):
    task_id = await queue_portrait(qolaba_client, portrait_request(SELFIE, "a portrait"))
    with pytest.raises(GenerationFailed, match="Face Consistent Error"):
        await portrait_status(qolaba_client, task_id)


def test_the_admin_script_sync_call_goes_to_the_fake(qolaba_respx, qolaba_mock):
    urls = portrait_now("sk-booth", portrait_request(SELFIE, "a portrait", width=768, height=512))
    assert len(urls) == 1
    qolaba_mock.assert_called("/getImagetoImage", times=1)


def test_a_live_server_answers_another_process_s_client(qolaba_server):
    reply = httpx.post(f"{qolaba_server.url}/getImage", json={"id": "x"}, headers={"Authorization": "Bearer t"})
    assert reply.json()["status"] == "PENDING"


@pytest.mark.qolaba(cassette=CASSETTE)
async def test_a_recorded_production_job_replays_on_the_fake_s_clock(qolaba_client, qolaba_mock):
    task_id = await queue_portrait(qolaba_client, portrait_request(SELFIE, "a portrait by the sea"))
    assert (await portrait_status(qolaba_client, task_id))[0] == "PENDING"

    qolaba_mock.advance(25)  # the recording saw the job end 25 s after its submit
    status, urls = await portrait_status(qolaba_client, task_id)

    assert status == "SUCCESS"
    image = await qolaba_client.get(urls[0])
    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"


@pytest.mark.qolaba(cassette=CASSETTE)
async def test_production_s_own_refusal_of_a_missing_token_replays(qolaba_client):
    del qolaba_client.headers["Authorization"]
    answer = await qolaba_client.post("/getImagetoImage", json=portrait_request(SELFIE, "a portrait by the sea"))
    # FastAPI's 403, as recorded; the fake's own model would answer a 401 envelope.
    assert answer.status_code == 403 and answer.json() == {"detail": "Not authenticated"}


# Property tests call one fake made once for the module: a function-scoped fixture would be shared across examples.
FAKE = create_app(Config(seed=2))


def call_fake(send: Any) -> Any:
    async def run() -> Any:
        transport = httpx.ASGITransport(app=FAKE)
        headers = {"Authorization": "Bearer sk-booth"}
        async with httpx.AsyncClient(transport=transport, base_url="http://fake", headers=headers) as http:
            return await send(http)

    return asyncio.run(run())


@settings(max_examples=25, database=None, derandomize=True)
@given(invalid=strategies.invalid_face_requests())
def test_the_booth_reports_the_field_the_api_refused(qolaba_fake, invalid):
    # qolaba_fake is session-scoped, so Hypothesis accepts it; each example gets the fake afresh.
    async def send(mock: Any) -> None:
        headers = {"Authorization": "Bearer sk-booth"}
        async with httpx.AsyncClient(transport=mock.async_transport(), base_url="http://fake", headers=headers) as http:
            await submit(http, invalid.body)

    with qolaba_fake() as mock, pytest.raises(Refused) as refused:
        asyncio.run(send(mock))
    assert invalid.field in refused.value.fields
    assert len(mock.journal) == 1


@settings(max_examples=25, database=None, derandomize=True)
@given(strategies.invalid_face_requests())
def test_the_booth_reports_the_field_without_the_fixtures(invalid):
    with pytest.raises(Refused) as refused:
        call_fake(lambda http: submit(http, invalid.body))
    assert invalid.field in refused.value.fields


@settings(max_examples=25, database=None, derandomize=True)
@given(strategies.face_requests())
def test_every_valid_request_is_queued(body):
    assert call_fake(lambda http: queue_portrait(http, body))
