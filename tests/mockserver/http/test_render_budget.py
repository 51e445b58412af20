"""Output images are rendered within a budget: few at once, the rest waiting a bounded time or refused with 503
and Retry-After, never all allocated at once. The renderer here is a stand-in that blocks until the test lets
it go, so the test decides what runs when."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import pytest

from mockserver import Config, create_app
from mockserver.http import routes
from mockserver.http.render_budget import RETRY_AFTER_SECONDS, RenderBudget, RenderBusy, ServerDraining
from mockserver.http.shutdown import Drain
from mockserver.wire.images import ImageSpec, OutputImage
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio
SPEC = ImageSpec("JPEG", "image/jpeg")


class GatedRenderer:
    """Renders `b"image-<width>"` once `go` is set; counts how many run at once."""

    def __init__(self) -> None:
        self.go = threading.Event()
        self.calls: list[int] = []
        self.now = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, image: OutputImage) -> bytes:
        with self._lock:
            self.calls.append(image.width)
            self.now += 1
            self.most = max(self.most, self.now)
        self.go.wait(30)
        with self._lock:
            self.now -= 1
        return b"image-%d" % image.width


def image(width: int) -> OutputImage:
    return OutputImage(width, 8, b"f", b"k%d" % width, SPEC)


async def never_leaves() -> dict[str, Any]:
    await anyio.sleep_forever()
    return {}


async def until(condition: Callable[[], bool]) -> None:
    with anyio.fail_after(10):
        while not condition():
            await anyio.sleep(0)


async def render_all(budget: RenderBudget, widths: list[int], results: dict[int, Any], drain: Drain) -> None:
    async def one(width: int) -> None:
        try:
            results[width] = await budget.render(image(width), never_leaves, drain)
        except (RenderBusy, ServerDraining) as exc:
            results[width] = type(exc).__name__

    async with anyio.create_task_group() as group:
        for width in widths:
            group.start_soon(one, width)


async def test_no_more_renders_run_at_once_than_there_are_slots_and_the_rest_wait_their_turn() -> None:
    renderer = GatedRenderer()
    budget = RenderBudget(slots=2, max_waiting=8, renderer=renderer)
    results: dict[int, Any] = {}

    async with anyio.create_task_group() as group:
        group.start_soon(render_all, budget, [8, 16, 24, 32, 40], results, Drain())
        await until(lambda: budget.running == 2 and budget.waiting == 3)
        renderer.go.set()

    assert results == {width: b"image-%d" % width for width in (8, 16, 24, 32, 40)}
    assert renderer.most == 2 and sorted(renderer.calls) == [8, 16, 24, 32, 40]


async def test_past_the_waiting_bound_a_render_is_refused_at_once_without_being_rendered() -> None:
    renderer = GatedRenderer()
    budget = RenderBudget(slots=1, max_waiting=1, renderer=renderer)
    results: dict[int, Any] = {}

    async with anyio.create_task_group() as group:
        group.start_soon(render_all, budget, [8, 16], results, Drain())
        await until(lambda: budget.running == 1 and budget.waiting == 1)
        await render_all(budget, [24], results, Drain())
        renderer.go.set()

    assert results[24] == "RenderBusy" and 24 not in renderer.calls
    assert results[8] == b"image-8" and results[16] == b"image-16"


async def test_a_render_that_cannot_have_a_slot_within_its_wait_is_refused() -> None:
    renderer = GatedRenderer()
    budget = RenderBudget(slots=1, max_waiting=8, wait_seconds=0, renderer=renderer)
    results: dict[int, Any] = {}

    async with anyio.create_task_group() as group:
        group.start_soon(render_all, budget, [8], results, Drain())
        await until(lambda: budget.running == 1)
        await render_all(budget, [16], results, Drain())
        renderer.go.set()

    assert results == {8: b"image-8", 16: "RenderBusy"}


async def test_the_same_image_asked_for_by_many_at_once_is_rendered_once_and_then_kept() -> None:
    renderer = GatedRenderer()
    budget = RenderBudget(slots=2, renderer=renderer)
    drain = Drain()
    answers: list[bytes] = []

    async def ask() -> None:
        answers.append(await budget.render(image(8), never_leaves, drain))

    async with anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(ask)
        await until(lambda: renderer.calls == [8])
        renderer.go.set()
    answers.append(await budget.render(image(8), never_leaves, drain))

    assert answers == [b"image-8"] * 6 and renderer.calls == [8]


async def test_a_render_waiting_for_a_slot_ends_with_the_shutdown_503_when_the_server_drains() -> None:
    renderer = GatedRenderer()
    budget = RenderBudget(slots=1, renderer=renderer)
    drain = Drain()
    results: dict[int, Any] = {}

    async with anyio.create_task_group() as group:
        group.start_soon(render_all, budget, [8, 16], results, drain)
        await until(lambda: budget.running == 1 and budget.waiting == 1)
        drain.start()
        await until(lambda: 16 in results)
        renderer.go.set()

    assert results == {8: b"image-8", 16: "ServerDraining"}


def test_recent_answers_are_kept_within_their_byte_bound() -> None:
    budget = RenderBudget(cache_bytes=400)
    for width in range(8):
        budget._keep(image(width), b"x" * 100)

    assert budget._cached <= 400 and set(budget._cache) == {image(4), image(5), image(6), image(7)}


def test_answers_being_sent_are_bounded_by_their_distinct_bytes() -> None:
    budget = RenderBudget(sending_bytes=150)
    first, second = b"a" * 100, b"b" * 100

    with budget.sending(first), budget.sending(first):  # one answer sent to two clients counts once
        with pytest.raises(RenderBusy), budget.sending(second):
            pass
    with budget.sending(second):  # once the first is out, there is room again
        pass


async def test_a_busy_renderer_answers_503_with_retry_after_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    renderer = GatedRenderer()
    monkeypatch.setattr(routes, "RENDERS", RenderBudget(slots=1, max_waiting=0, renderer=renderer))
    app = create_app(Config())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1", headers=AUTH) as client:
        submitted = await client.post("/getImagetoImage", json=valid_body(batch=2))
        first, second = submitted.json()["output"]["result"]
        async with anyio.create_task_group() as group:
            group.start_soon(client.get, first)
            await until(lambda: renderer.calls != [])
            refused = await client.get(second)
            renderer.go.set()

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert refused.json()["error"] == "Service Unavailable" and "Retry-After" in refused.json()["error_data"]
    assert len(renderer.calls) == 1  # the refused one allocated nothing
