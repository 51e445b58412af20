"""The queued-task lifecycle end to end, on a virtual clock: no test waits in real time."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette

from mockserver import Config, VirtualClock
from mockserver.http import routes
from mockserver.http.render_budget import RenderBudget
from mockserver.wire.images import OutputImage, render
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio


@pytest.fixture
def slow_app(make_app: Callable[..., Starlette]) -> Starlette:
    return make_app(Config(seed=3, result_ttl=600, latency="fixed:40s"))


@pytest.fixture
async def slow_client(slow_app: Starlette) -> Any:
    transport = httpx.ASGITransport(app=slow_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        yield client


async def poll(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    response = await client.post("/getImage", json={"id": task_id})
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_queued_task_is_pending_until_its_time_then_succeeds_with_real_images(
    slow_client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    request = valid_body(celery=True, batch=2, width=1001, height=517)
    task_id = (await slow_client.post("/getImagetoImage", json=request)).json()["task_id"]

    states = []
    for _ in range(5):
        states.append((await poll(slow_client, task_id))["status"])
        clock.advance(10)
    assert states == ["PENDING", "PENDING", "PENDING", "PENDING", "SUCCESS"]

    done = await poll(slow_client, task_id)
    assert done["task_id"] is None  # production does not re-insert the id into the stored result
    assert done["time_required"] == {"startup_time": 0.0, "runtime": 40.0}
    assert done["input"] == request
    for url in done["output"]["result"]:
        image = await fetch_image(slow_client, url, "image/jpeg")
        assert (image.format, image.size) == ("JPEG", (1000, 512))
    for url in done["output"]["low_res_urls"]:
        image = await fetch_image(slow_client, url, "image/webp")
        assert image.format == "WEBP"
        assert max(image.size) <= 256 and image.size[0] / image.size[1] == pytest.approx(1000 / 512, rel=0.02)


async def fetch_image(client: httpx.AsyncClient, url: str, media_type: str) -> Image.Image:
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def test_pending_reply_is_the_same_for_a_running_task_and_an_unknown_id(
    slow_client: httpx.AsyncClient,
) -> None:
    task_id = (await slow_client.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    unknown = "00000000-0000-4000-8000-000000000000"

    running = await poll(slow_client, task_id)
    never_seen = await poll(slow_client, unknown)

    assert running == {**never_seen, "input": {"task_id": task_id, "ref_id": ""}, "task_id": task_id}


async def test_unknown_task_id_reads_pending_forever(slow_client: httpx.AsyncClient, clock: VirtualClock) -> None:
    for _ in range(3):
        assert (await poll(slow_client, "no-such-task"))["status"] == "PENDING"
        clock.advance(10_000)


async def test_result_expires_after_the_ttl_and_then_reads_pending(
    slow_client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    task_id = (await slow_client.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    clock.advance(40 + 599)
    assert (await poll(slow_client, task_id))["status"] == "SUCCESS"

    clock.advance(1)
    assert (await poll(slow_client, task_id))["status"] == "PENDING"


async def test_status_echoes_the_ref_id_while_pending(slow_client: httpx.AsyncClient) -> None:
    response = await slow_client.post("/getImage", json={"id": "t-1", "refID": "order-42"})
    assert response.json()["input"] == {"task_id": "t-1", "ref_id": "order-42"}


async def test_sync_call_waits_the_simulated_duration_on_the_clock(slow_app: Starlette, clock: VirtualClock) -> None:
    import anyio

    transport = httpx.ASGITransport(app=slow_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        replies: list[httpx.Response] = []

        async def call() -> None:
            replies.append(await client.post("/getImagetoImage", json=valid_body()))

        async with anyio.create_task_group() as group:
            group.start_soon(call)
            for _ in range(20):  # let the request reach its sleep
                await anyio.sleep(0)
            assert replies == []
            clock.advance(39.9)
            for _ in range(20):
                await anyio.sleep(0)
            assert replies == []
            clock.advance(0.1)
        assert replies[0].status_code == 200
        assert replies[0].json()["time_required"] == {"startup_time": 0.0, "runtime": 40.0}


async def test_unknown_output_url_answers_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/outputs/20240101000000_nothing.webp")
    assert response.status_code == 404
    assert response.json()["error"] == "Not Found"


async def test_an_output_image_is_encoded_off_the_event_loop(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Encoding a 1536 px JPEG takes a few hundred ms of CPU; on the loop it would stall every other request.
    loop_thread = threading.current_thread()
    rendered_on: list[threading.Thread] = []

    def recording_render(image: OutputImage) -> bytes:
        rendered_on.append(threading.current_thread())
        return render(image)

    monkeypatch.setattr(routes, "RENDERS", RenderBudget(renderer=recording_render))
    url = (await client.post("/getImagetoImage", json=valid_body())).json()["output"]["result"][0]
    image = await client.get(url)

    assert image.status_code == 200 and image.content[:3] == b"\xff\xd8\xff"
    assert rendered_on and rendered_on[0] is not loop_thread
    assert rendered_on[0].name.startswith("qolaba-mock-render")  # on the render pool, not Starlette's
