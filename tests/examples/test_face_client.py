"""The example client under the qolaba-mock fixtures: success, each fault family, rate limits and the deadline.

Written the way a user would test their own client. The client's `sleep` advances the fake's virtual clock and
its `clock` reads it, so a 40-second job and a five-minute deadline take no real time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from mockserver.examples.face_client import DeadlineExceeded, FaceClient, GenerationFailed, Rejected, Unavailable
from mockserver.testing.handle import QolabaMock

pytestmark = [pytest.mark.anyio, pytest.mark.qolaba(seed=3, latency="fixed:20s")]

REQUEST: dict[str, Any] = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
    "image": "https://example.com/face.jpg",
    "prompt": "a portrait in a sunlit garden",
    "batch": 2,
    "height": 512,
    "width": 512,
    "num_inference_steps": 30,
    "guidance_scale": 7.5,
    "strength": 1,
}


def on_virtual_time(mock: QolabaMock) -> dict[str, Any]:
    async def sleep(seconds: float) -> None:
        mock.advance(seconds)

    sleep_: Callable[[float], Awaitable[None]] = sleep
    return {"sleep": sleep_, "clock": mock.clock.now}


@pytest.fixture
def client(qolaba_mock: QolabaMock, qolaba_client: httpx.AsyncClient, qolaba_token: str) -> FaceClient:
    return FaceClient("http://testserver", qolaba_token, http=qolaba_client, **on_virtual_time(qolaba_mock))


async def test_generate_polls_politely_and_downloads_every_image(client: FaceClient, qolaba_mock: QolabaMock) -> None:
    images = await client.generate(REQUEST)

    assert len(images.contents) == 2 and all(c.startswith(b"\xff\xd8") for c in images.contents)
    qolaba_mock.assert_called("/getImagetoImage", times=1)
    qolaba_mock.assert_polls_no_faster_than(0.5)
    qolaba_mock.assert_no_duplicate_submits()
    qolaba_mock.assert_fetched_outputs()


@pytest.mark.parametrize(
    ("fault", "error"),
    [("no_face", "Face Consistent Error"), ("bad_image_url", "Image URL Error"), ("task_failed", "Internal Error")],
)
async def test_a_failed_generation_raises_the_apis_words(
    client: FaceClient, qolaba_mock: QolabaMock, fault: str, error: str
) -> None:
    qolaba_mock.set_fault(fault)

    with pytest.raises(GenerationFailed) as raised:
        await client.generate(REQUEST)

    assert raised.value.error == error
    qolaba_mock.assert_no_duplicate_submits()


@pytest.mark.parametrize("fault", ["http_429:first:2", "http_503:first:2", "http_500:first:2"])
async def test_refused_submits_are_retried_after_the_wait_they_ask_for(
    client: FaceClient, qolaba_mock: QolabaMock, fault: str
) -> None:
    qolaba_mock.set_fault(f"{fault}@submit")

    await client.generate(REQUEST)

    qolaba_mock.assert_called("/getImagetoImage", times=3)
    qolaba_mock.assert_honoured_retry_after()
    qolaba_mock.assert_no_duplicate_submits()


@pytest.mark.parametrize("fault", ["reset", "empty_response", "malformed_json", "http_429", "http_503"])
async def test_broken_polls_are_retried_until_the_result_arrives(
    client: FaceClient, qolaba_mock: QolabaMock, fault: str
) -> None:
    qolaba_mock.set_fault(f"{fault}:nth:1,2@status")

    images = await client.generate(REQUEST)

    assert len(images.urls) == 2
    qolaba_mock.assert_honoured_retry_after()
    qolaba_mock.assert_fetched_outputs()


@pytest.mark.parametrize("fault", ["reset", "empty_response", "malformed_json"])
async def test_a_submit_whose_answer_is_lost_is_not_sent_again(
    client: FaceClient, qolaba_mock: QolabaMock, fault: str
) -> None:
    qolaba_mock.set_fault(f"{fault}@submit")

    with pytest.raises(Unavailable):
        await client.generate(REQUEST)

    # The job ran anyway: a client that re-sent it would pay twice.
    assert len(qolaba_mock.tasks) == 1
    qolaba_mock.assert_no_duplicate_submits()


async def test_a_task_that_never_finishes_is_abandoned_at_the_deadline(
    qolaba_mock: QolabaMock, qolaba_client: httpx.AsyncClient
) -> None:
    client = FaceClient("http://testserver", "t", http=qolaba_client, deadline=120, **on_virtual_time(qolaba_mock))
    qolaba_mock.set_fault("task_lost")

    with pytest.raises(DeadlineExceeded, match="not finished after 120"):
        await client.generate(REQUEST)

    qolaba_mock.assert_gave_up_by(120)
    qolaba_mock.assert_polls_no_faster_than(0.5)


@pytest.mark.qolaba(rate_limit="3/min")
async def test_a_rate_limited_client_waits_as_told(client: FaceClient, qolaba_mock: QolabaMock) -> None:
    await client.generate(REQUEST)

    assert any(entry.status == 429 for entry in qolaba_mock.journal)
    qolaba_mock.assert_honoured_retry_after()


@pytest.mark.qolaba(tokens=["sk-right"])
async def test_a_wrong_token_is_rejected_without_retries(
    qolaba_mock: QolabaMock, qolaba_client: httpx.AsyncClient
) -> None:
    client = FaceClient("http://testserver", "sk-wrong", http=qolaba_client, **on_virtual_time(qolaba_mock))

    with pytest.raises(Rejected, match="401"):
        await client.generate(REQUEST)

    qolaba_mock.assert_called("/getImagetoImage", times=1)


async def test_the_unchanged_client_talks_to_the_fake_through_respx(
    qolaba_respx: Any, qolaba_mock: QolabaMock, qolaba_base_url: str
) -> None:
    async with FaceClient(qolaba_base_url, "sk-test", **on_virtual_time(qolaba_mock)) as client:
        images = await client.generate(REQUEST)

    assert len(images.contents) == 2
    qolaba_mock.assert_called("/api/v1/studio/getImagetoImage", times=1)
    qolaba_mock.assert_fetched_outputs()


async def test_the_client_talks_to_the_live_server_over_a_socket(qolaba_server: QolabaMock) -> None:
    assert qolaba_server.url is not None
    async with FaceClient(qolaba_server.url, "sk-test", **on_virtual_time(qolaba_server)) as client:
        images = await client.generate(REQUEST)

    assert len(images.contents) == 2
    qolaba_server.assert_polls_no_faster_than(0.5)
    qolaba_server.assert_fetched_outputs()
