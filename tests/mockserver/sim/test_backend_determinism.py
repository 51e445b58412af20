"""Same seed and same requests: same ids, same URLs, same image bytes."""

from __future__ import annotations

import httpx
import pytest

from mockserver import Config, VirtualClock, create_app
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio


async def run_session(seed: int) -> tuple[list[dict], list[bytes]]:
    app = create_app(Config(seed=seed), clock=VirtualClock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        bodies = [
            (await client.post("/getImagetoImage", json=valid_body(batch=2, width=320, height=320))).json(),
            (await client.post("/getImagetoImage", json=valid_body(celery=True))).json(),
        ]
        images = [(await client.get(url)).content for url in bodies[0]["output"]["result"]]
    return bodies, images


async def test_two_runs_with_one_seed_answer_identically() -> None:
    assert await run_session(seed=11) == await run_session(seed=11)


async def test_another_seed_gives_other_ids_and_other_images() -> None:
    (bodies_a, images_a), (bodies_b, images_b) = await run_session(seed=11), await run_session(seed=12)
    assert bodies_a[1]["task_id"] != bodies_b[1]["task_id"]
    assert set(images_a).isdisjoint(images_b)


async def test_images_in_one_batch_differ_from_each_other() -> None:
    _, images = await run_session(seed=11)
    assert len(set(images)) == len(images) == 2


async def test_reset_restarts_the_id_sequence_and_forgets_tasks(client: httpx.AsyncClient, app: object) -> None:
    first = (await client.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    app.state.backend.reset()  # type: ignore[attr-defined]
    assert len(app.state.backend.default.tasks) == 0  # type: ignore[attr-defined]
    again = (await client.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    assert again == first
