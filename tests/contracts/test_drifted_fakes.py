"""The drift catalogue: each variant drifts the way it claims, one request showing it against the faithful fake."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.types import ASGIApp

from mockserver import Config, VirtualClock
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH, valid_body
from tests.contracts.drifted_fakes import DRIFTS, FAITHFUL, contract_bound, handle, live

pytestmark = pytest.mark.anyio

Demo = Callable[[httpx.AsyncClient], Awaitable[Any]]
BATCH_MAX = contract_bound("batch", "maximum")
HEIGHT_MIN = contract_bound("height", "minimum")


async def submit(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/getImagetoImage", json=body)


async def echoed(client: httpx.AsyncClient, name: str, value: Any) -> tuple[int, Any]:
    response = await submit(client, valid_body(**{name: value}))
    return response.status_code, response.json()["input"].get(name)


async def without_strength(client: httpx.AsyncClient) -> tuple[int, bool]:
    body = valid_body()
    del body["strength"]
    response = await submit(client, body)
    return response.status_code, "strength" in response.json()["input"]


async def sync_envelope(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    envelope: dict[str, Any] = (await submit(client, valid_body(**overrides))).json()
    return envelope


async def statuses(client: httpx.AsyncClient) -> tuple[str, str]:
    queued = (await submit(client, valid_body(celery=True))).json()["status"]
    return (await sync_envelope(client))["status"], queued


async def made_up_token(client: httpx.AsyncClient) -> int:
    return (await client.post("/getImage", json={"id": "x"}, headers={"Authorization": "Bearer made-up"})).status_code


async def output_lengths(client: httpx.AsyncClient) -> tuple[int, int]:
    output = (await sync_envelope(client, batch=2))["output"]
    return len(output["result"]), len(output["low_res_urls"])


async def content_type(client: httpx.AsyncClient) -> str:
    return str((await submit(client, valid_body())).headers["content-type"])


async def broken(client: httpx.AsyncClient) -> tuple[int, str, int]:
    response = await submit(client, valid_body(batch=0, height=0))
    return response.status_code, response.json()["status"], len(response.json()["error_data"])


async def task_outcome(client: httpx.AsyncClient) -> str:
    task_id = (await submit(client, valid_body(celery=True))).json()["task_id"]
    status: str = (await client.post("/getImage", json={"id": task_id})).json()["status"]
    return status


async def first_output_scheme(client: httpx.AsyncClient) -> str:
    url: str = (await sync_envelope(client))["output"]["result"][0]
    return urlsplit(url).scheme


async def time_required_type(client: httpx.AsyncClient) -> str:
    return type((await sync_envelope(client)).get("time_required")).__name__


async def has_time_required(client: httpx.AsyncClient) -> bool:
    return "time_required" in await sync_envelope(client)


async def widened_batch(client: httpx.AsyncClient) -> tuple[int, Any]:
    return await echoed(client, "batch", BATCH_MAX + 1)


async def widened_height(client: httpx.AsyncClient) -> tuple[int, Any]:
    return await echoed(client, "height", HEIGHT_MIN - 1)


async def widened_guidance(client: httpx.AsyncClient) -> tuple[int, Any]:
    return await echoed(client, "guidance_scale", 0.5)


async def upper_cased_gpu(client: httpx.AsyncClient) -> tuple[int, Any]:
    return await echoed(client, "inference_type", "A10G")


# name -> (one request's observable, what the faithful fake shows, what the drifted variant shows)
DEMOS: dict[str, tuple[Demo, Any, Any]] = {
    "batch_max_widened": (widened_batch, (422, BATCH_MAX + 1), (200, BATCH_MAX + 1)),
    "height_min_widened": (widened_height, (422, HEIGHT_MIN - 1), (200, HEIGHT_MIN - 1)),
    "guidance_scale_min_widened": (widened_guidance, (422, 0.5), (200, 0.5)),
    "strength_defaulted": (without_strength, (422, False), (200, False)),
    "inference_type_case_insensitive": (upper_cased_gpu, (422, "A10G"), (200, "A10G")),
    "envelope_key_dropped": (has_time_required, True, False),
    "status_respelled": (statuses, ("SUCCESS", "PENDING"), ("Success", "Pending")),
    "auth_not_enforced": (made_up_token, 401, 200),
    "extra_output_image": (output_lengths, (2, 2), (3, 2)),
    "wrong_content_type": (content_type, "application/json", "text/plain; charset=utf-8"),
    "relative_output_urls": (first_output_scheme, "http", ""),
    "time_required_wrong_shape": (time_required_type, "dict", "str"),
    "status_code_mismatch": (broken, (422, "FAILED", 2), (200, "FAILED", 2)),
    "task_never_finishes": (task_outcome, "SUCCESS", "PENDING"),
    "validation_error_data_first_only": (broken, (422, "FAILED", 2), (422, "FAILED", 1)),
}


async def observe(app: ASGIApp, demo: Demo) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        return await demo(client)


def test_every_drift_in_the_catalogue_has_a_demonstration() -> None:
    assert set(DEMOS) == set(DRIFTS)


@pytest.mark.parametrize("name", DEMOS)
async def test_each_variant_drifts_the_way_it_claims(name: str) -> None:
    demo, faithful, drifted = DEMOS[name]
    assert await observe(FAITHFUL(), demo) == faithful
    assert await observe(DRIFTS[name].build(), demo) == drifted


async def test_a_widened_range_echoes_the_clients_value_in_the_finished_task_too() -> None:
    app = DRIFTS["batch_max_widened"].build()

    async def finished_batch(client: httpx.AsyncClient) -> Any:
        task_id = (await submit(client, valid_body(batch=BATCH_MAX + 1, celery=True))).json()["task_id"]
        return (await client.post("/getImage", json={"id": task_id})).json()["input"]["batch"]

    assert await observe(app, finished_batch) == BATCH_MAX + 1


async def test_output_images_and_the_admin_api_pass_through_unchanged() -> None:
    app = DRIFTS["wrong_content_type"].build()

    async def image_and_admin(client: httpx.AsyncClient) -> tuple[str, str]:
        url = (await submit(client, valid_body())).json()["output"]["result"][0]
        image = await client.get(urlsplit(url).path)
        admin = await client.get("/__admin/health")
        return image.headers["content-type"], admin.headers["content-type"]

    assert await observe(app, image_and_admin) == ("image/jpeg", "application/json")


async def test_the_journal_of_a_drifted_app_is_the_wrapped_fakes() -> None:
    app = DRIFTS["batch_max_widened"].build()
    await observe(app, widened_batch)
    with handle(app) as mock:
        (entry,) = mock.journal.calls_to("/getImagetoImage")
    # The fake saw the clamped value: the drift is in the wrapper, not in the fake.
    assert (entry.status, entry.request_body["batch"]) == (200, BATCH_MAX)


def test_a_variant_serves_over_a_real_socket() -> None:
    with live(DRIFTS["status_respelled"]) as server, handle(server.app) as mock:
        reply = httpx.post(f"{server.url}/getImagetoImage", json=valid_body(), headers=AUTH)
        assert reply.json()["status"] == "Success"
        assert len(mock.journal.calls_to("/getImagetoImage")) == 1


def test_a_live_server_given_an_app_refuses_a_clock_it_would_ignore() -> None:
    with pytest.raises(TypeError, match="clock="):
        LiveServer(Config(), clock=VirtualClock(), app=FAITHFUL())
