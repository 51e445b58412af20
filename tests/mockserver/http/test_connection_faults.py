"""Each fault, through the in-process app on a virtual clock; a fault never leaves the fake broken."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette

from mockserver import Config, VirtualClock
from mockserver.http.connection_faults import MALFORMED_BODY, ConnectionFault
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio

NO_FACE = ("Face Consistent Error", "Unable to detect faces. Please provide a clear image.")
BAD_URL = ("Image URL Error", "Given image type is not supported. Please try with JPG or PNG.")


@pytest.fixture
def configure(make_app: Callable[..., Starlette]) -> Callable[..., Any]:
    def build(**settings: Any) -> httpx.AsyncClient:
        app = make_app(Config(**{"seed": 9, "latency": "fixed:30s", **settings}))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=AUTH)

    return build


@pytest.fixture
async def client(configure: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    async with configure() as client:
        yield client


async def sync_call(client: httpx.AsyncClient, clock: VirtualClock, **headers: str) -> httpx.Response:
    """A sync submit that needs 30 simulated seconds: advance the clock while it waits."""
    replies: list[httpx.Response] = []

    async def call() -> None:
        replies.append(await client.post("/getImagetoImage", json=valid_body(batch=4), headers=headers))

    async with anyio.create_task_group() as group:
        group.start_soon(call)
        while not replies:
            await anyio.sleep(0)
            clock.advance(1)
    return replies[0]


async def queue_and_finish(client: httpx.AsyncClient, clock: VirtualClock, fault: str) -> httpx.Response:
    submitted = await client.post("/getImagetoImage", json=valid_body(celery=True), headers={"X-Mock-Fault": fault})
    assert submitted.json()["status"] == "PENDING"
    clock.advance(30)
    return await client.post("/getImage", json={"id": submitted.json()["task_id"]})


@pytest.mark.parametrize(
    ("fault", "status_code", "error"),
    [
        ("http_500", 500, "Internal Error"),
        ("http_429", 429, "Too Many Requests"),
        ("http_503", 503, "Service Unavailable"),
    ],
)
@pytest.mark.parametrize("path", ["/getImagetoImage", "/getImage"])
async def test_http_fault_answers_its_status_as_an_envelope(
    client: httpx.AsyncClient, fault: str, status_code: int, error: str, path: str
) -> None:
    body = valid_body() if path == "/getImagetoImage" else {"id": "x"}
    response = await client.post(path, json=body, headers={"X-Mock-Fault": fault})

    assert response.status_code == status_code
    assert response.json()["status"] == "FAILED" and response.json()["error"] == error


async def test_http_429_tells_the_client_when_to_retry(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "http_429"})
    assert int(response.headers["retry-after"]) >= 1


async def test_gateway_timeout_answers_504_while_the_job_runs_on_and_completes(
    configure: Callable[..., httpx.AsyncClient], clock: VirtualClock
) -> None:
    async with configure(latency="fixed:150s", gateway_timeout=100) as client:
        started = clock.now()
        response = await sync_call(client, clock, **{"X-Mock-Fault": "gateway_timeout"})
        assert response.status_code == 504
        assert 100 <= clock.now() - started < 150

        [job] = (await client.get("/__admin/tasks")).json()["tasks"]
        assert job["state"] == "PENDING"
        clock.advance(50)
        [job] = (await client.get("/__admin/tasks")).json()["tasks"]
        assert job["state"] == "SUCCESS"


@pytest.mark.parametrize(("fault", "words"), [("no_face", NO_FACE), ("bad_image_url", BAD_URL)])
async def test_domain_failure_on_a_sync_call_answers_200_failed_in_the_real_wording(
    client: httpx.AsyncClient, clock: VirtualClock, fault: str, words: tuple[str, str]
) -> None:
    response = await sync_call(client, clock, **{"X-Mock-Fault": fault})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["error"], body["error_data"]) == ("FAILED", *words)
    assert body["input"] == valid_body(batch=4) and body["output"] == {}


async def test_legacy_fidelity_answers_domain_failures_with_500_and_empty_input(
    configure: Callable[..., httpx.AsyncClient], clock: VirtualClock
) -> None:
    async with configure(fidelity="legacy") as client:
        response = await sync_call(client, clock, **{"X-Mock-Fault": "no_face"})
        assert response.status_code == 500
        assert (response.json()["error"], response.json()["input"]) == (NO_FACE[0], {})

        polled = await queue_and_finish(client, clock, "task_failed")
        assert polled.status_code == 500
        assert polled.json()["status"] == "FAILED" and polled.json()["input"] == {}


async def test_queued_domain_failure_reads_failed_once_the_task_ends(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    polled = await queue_and_finish(client, clock, "no_face")

    assert polled.status_code == 200
    assert (polled.json()["status"], polled.json()["error"]) == ("FAILED", NO_FACE[0])
    assert polled.json()["task_id"] is None


async def test_task_failed_reads_failed_with_an_internal_error(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    polled = await queue_and_finish(client, clock, "task_failed")
    assert (polled.json()["status"], polled.json()["error"]) == ("FAILED", "Internal Error")


async def test_task_lost_reads_pending_forever(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    polled = await queue_and_finish(client, clock, "task_lost")
    assert polled.json()["status"] == "PENDING"
    clock.advance(100_000)
    assert (await client.post("/getImage", json={"id": polled.json()["task_id"]})).json()["status"] == "PENDING"


async def test_the_admin_api_lists_a_lost_task_with_its_state(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    ids = {}
    for fault in ("task_lost", "task_failed"):
        submitted = await client.post("/getImagetoImage", json=valid_body(celery=True), headers={"X-Mock-Fault": fault})
        ids[fault] = submitted.json()["task_id"]
    clock.advance(30)

    tasks = {task["id"]: task["state"] for task in (await client.get("/__admin/tasks")).json()["tasks"]}

    assert tasks == {ids["task_lost"]: "task_lost", ids["task_failed"]: "FAILED"}
    assert (await client.post("/getImage", json={"id": ids["task_lost"]})).json()["status"] == "PENDING"


async def test_nsfw_drops_flagged_images_from_a_partial_batch(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    response = await sync_call(client, clock, **{"X-Mock-Fault": "nsfw"})

    output = response.json()["output"]
    flags = output["Has_NSFW_Content"]
    assert len(flags) == 4 and any(flags)
    assert len(output["result"]) == len(output["low_res_urls"]) == flags.count(False) < 4


async def test_malformed_json_answers_a_truncated_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "malformed_json"})
    assert response.content == MALFORMED_BODY
    with pytest.raises(ValueError):
        response.json()


@pytest.mark.parametrize("fault", ["reset", "empty_response"])
async def test_connection_abort_surfaces_in_process_as_a_connection_fault(
    client: httpx.AsyncClient, fault: str
) -> None:
    with pytest.raises(ConnectionFault) as raised:
        await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": fault})
    assert raised.value.fault == fault


async def test_hang_never_answers_until_the_client_gives_up(client: httpx.AsyncClient, clock: VirtualClock) -> None:
    replies: list[httpx.Response] = []
    async with anyio.create_task_group() as group:

        async def call() -> None:
            replies.append(await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "hang"}))

        group.start_soon(call)
        for _ in range(50):
            await anyio.sleep(0)
            clock.advance(3600)
        assert replies == []
        group.cancel_scope.cancel()  # the client gives up

    assert (await client.post("/getImage", json={"id": "x"})).status_code == 200


async def test_slow_body_is_dribbled_over_simulated_time_and_arrives_whole(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    replies: list[httpx.Response] = []
    async with anyio.create_task_group() as group:

        async def call() -> None:
            replies.append(await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "slow_body"}))

        group.start_soon(call)
        started = clock.now()
        while not replies:
            await anyio.sleep(0)
            clock.advance(0.25)
    assert clock.now() - started >= 10
    assert replies[0].json()["status"] == "PENDING"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("http_503:every:3", [200, 200, 503, 200, 200, 503]),
        ("http_503:nth:2,5", [200, 503, 200, 200, 503, 200]),
        ("http_503:first:2", [503, 503, 200, 200, 200, 200]),
        ("http_503:0", [200] * 6),
        ("http_503:1", [503] * 6),
        ("http_503@submit", [200] * 6),
    ],
)
async def test_configured_schedule_decides_which_polls_fail(
    configure: Callable[..., httpx.AsyncClient], spec: str, expected: list[int]
) -> None:
    async with configure(faults=(spec,)) as client:
        codes = [(await client.post("/getImage", json={"id": "x"})).status_code for _ in expected]
    assert codes == expected


async def test_probability_fault_fires_at_about_its_rate_and_identically_for_one_seed(
    configure: Callable[..., httpx.AsyncClient],
) -> None:
    async def codes() -> list[int]:
        async with configure(faults=("http_500:0.25@status",)) as client:
            return [(await client.post("/getImage", json={"id": "x"})).status_code for _ in range(200)]

    first, second = await codes(), await codes()
    assert first == second
    assert 30 <= first.count(500) <= 70


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("X-Mock-Fault", "explode"),
        ("X-Mock-Fault", "no_face"),  # domain faults do not apply to /getImage
        ("X-Mock-Latency", "fixed:-1s"),
        ("X-Mock-Latency", "gauss:1s"),
        ("X-Mock-Namespace", "has spaces"),
    ],
)
async def test_invalid_steering_header_answers_400_and_the_next_request_is_normal(
    client: httpx.AsyncClient, header: str, value: str
) -> None:
    response = await client.post("/getImage", json={"id": "x"}, headers={header: value})

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid Mock Header"
    assert value.split(":")[0] in response.json()["error_data"]
    assert (await client.post("/getImage", json={"id": "x"})).status_code == 200


async def test_latency_header_sets_time_required_for_one_request(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    submitted = await client.post(
        "/getImagetoImage", json=valid_body(celery=True), headers={"X-Mock-Latency": "fixed:2s"}
    )
    clock.advance(2)
    polled = await client.post("/getImage", json={"id": submitted.json()["task_id"]})
    assert polled.json()["time_required"] == {"startup_time": 0.0, "runtime": 2.0}


async def test_workload_latency_reports_a_cold_start_then_warm_runs(
    configure: Callable[..., httpx.AsyncClient], clock: VirtualClock
) -> None:
    async with configure(latency="workload") as client:
        timings = []
        for _ in range(2):
            submitted = await client.post("/getImagetoImage", json=valid_body(celery=True))
            clock.advance(120)
            polled = await client.post("/getImage", json={"id": submitted.json()["task_id"]})
            timings.append(polled.json()["time_required"])
    assert timings[0]["startup_time"] > 0 and timings[1]["startup_time"] == 0
    assert all(10 < t["runtime"] < 30 for t in timings)  # batch 1, 30 steps, 1024x1024 on an a10g


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [
        ("fixed:250ms", 0.25, 0.25),
        ("uniform:100ms..2s", 0.1, 2.0),
        ("lognormal:median=800ms,sigma=0.4,max=5s", 0.0, 5.0),
        ("none", 0.0, 0.0),
    ],
)
async def test_each_latency_shape_decides_how_long_a_queued_task_stays_pending(
    configure: Callable[..., httpx.AsyncClient], clock: VirtualClock, spec: str, low: float, high: float
) -> None:
    async with configure(latency=spec) as client:
        for _ in range(5):
            task_id = (await client.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
            clock.advance(high)
            done = (await client.post("/getImage", json={"id": task_id})).json()
            assert done["status"] == "SUCCESS"
            assert low <= done["time_required"]["runtime"] <= high
