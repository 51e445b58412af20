"""`--fidelity production`: the fake answers each path as the backend does, in-process and over a socket.

One row of docs/fidelity.md per test; every test runs against both targets.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image

from mockserver import Config, VirtualClock, create_app
from mockserver.server.live_server import LiveServer
from mockserver.wire.envelope import KEYS
from tests.conftest import AUTH, TOKEN, valid_body

pytestmark = pytest.mark.anyio
SEVEN_KEYS = [key for key in KEYS if key != "app_id"]
PYDANTIC_BATCH = (
    "1 validation error for FaceConsistentParameters\nbatch\n  Input should be less than or equal to 8 "
    "[type=less_than_equal, input_value=9, input_type=int]\n    For further information visit "
    "https://errors.pydantic.dev/"
)


@dataclass
class Target:
    client: httpx.AsyncClient
    clock: VirtualClock


@pytest.fixture(scope="module")
def live_clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture(scope="module")
def live(live_clock: VirtualClock) -> Iterator[LiveServer]:
    with LiveServer(Config(fidelity="production", tokens=frozenset({TOKEN})), clock=live_clock) as server:
        yield server


@pytest.fixture(params=["in_process", "live"])
async def target(request: pytest.FixtureRequest) -> AsyncIterator[Target]:
    if request.param == "in_process":
        clock = VirtualClock()
        app = create_app(Config(fidelity="production", tokens=frozenset({TOKEN})), clock=clock)
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=app)
        base_url = "http://testserver"
    else:
        server: LiveServer = request.getfixturevalue("live")
        clock, transport, base_url = request.getfixturevalue("live_clock"), httpx.AsyncHTTPTransport(), server.url
    async with httpx.AsyncClient(transport=transport, base_url=base_url, headers=AUTH) as client:
        yield Target(client, clock)


async def submit(target: Target, body: Any, **kwargs: Any) -> httpx.Response:
    return await target.client.post("/getImagetoImage", json=body, **kwargs)


async def poll(target: Target, task_id: str) -> httpx.Response:
    return await target.client.post("/getImage", json={"id": task_id})


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        (None, "Not authenticated"),
        ("Bearer", "Not authenticated"),
        ("Basic dXNlcg==", "Invalid authentication credentials"),
    ],
)
async def test_missing_credentials_answer_403_detail(target: Target, authorization: str | None, detail: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    client = httpx.AsyncClient(transport=target.client._transport, base_url=target.client.base_url, headers=headers)
    async with client:
        response = await client.post("/getImagetoImage", json=valid_body())

    assert response.status_code == 403
    assert response.json() == {"detail": detail}
    assert "www-authenticate" not in response.headers


async def test_a_wrong_key_answers_500_internal_error(target: Target) -> None:
    response = await submit(target, valid_body(), headers={"Authorization": "Bearer not-the-key"})

    assert response.status_code == 500
    assert response.json() == {
        "time_required": {},
        "error": "Internal Error",
        "error_data": "('Invalid API Key',)",
        "input": {},
        "output": {},
        "task_id": None,
        "status": "FAILED",
    }


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        (
            b"{not json",
            "application/json",
            {"type": "json_invalid", "loc": ["body", 1], "msg": "JSON decode error", "input": {}},
        ),
        (b"[1, 2]", "application/json", {"type": "dict_type", "loc": ["body"], "input": [1, 2]}),
        (b'{"batch": 1}', "text/plain", {"type": "dict_type", "loc": ["body"], "input": '{"batch": 1}'}),
        (b"", "application/json", {"type": "missing", "loc": ["body"], "msg": "Field required", "input": None}),
    ],
)
async def test_an_unreadable_body_answers_fastapis_422(
    target: Target, raw: bytes, content_type: str, expected: dict[str, Any]
) -> None:
    response = await target.client.post("/getImagetoImage", content=raw, headers={"Content-Type": content_type})

    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert {key: error[key] for key in expected} == expected


async def test_a_broken_field_rule_fails_a_sync_job_with_pydantics_text(target: Target) -> None:
    response = await submit(target, valid_body(batch=9))

    assert response.status_code == 200
    body = response.json()
    assert list(body) == SEVEN_KEYS
    assert (body["status"], body["error"]) == ("FAILED", "Internal Error")
    assert body["error_data"].startswith(PYDANTIC_BATCH)
    assert body["input"]["parameters"]["batch"] == 9 and body["output"] == {} and body["time_required"] == {}


async def test_every_broken_field_is_listed_in_the_models_order(target: Target) -> None:
    response = await submit(target, valid_body(batch=9, height=0, strength=0, guidance_scale=31))

    text = response.json()["error_data"]
    assert text.startswith("4 validation errors for FaceConsistentParameters\nheight\n")
    assert [line for line in text.splitlines() if line and not line.startswith(" ")][1:] == [
        "height",
        "guidance_scale",
        "batch",
        "strength",
    ]


async def test_a_broken_field_rule_in_a_queued_job_shows_only_when_polled(target: Target) -> None:
    queued = await submit(target, valid_body(batch=9, celery=True))
    polled = await poll(target, queued.json()["task_id"])

    assert queued.status_code == 200 and queued.json()["status"] == "PENDING"
    assert polled.status_code == 200
    assert (polled.json()["status"], polled.json()["task_id"]) == ("FAILED", None)
    assert polled.json()["error_data"].startswith(PYDANTIC_BATCH)


@pytest.mark.parametrize(
    ("change", "error_data"),
    [
        ({"app_id": "ap-xxx"}, "('ap-xxx',)"),
        ({"app_id": None}, "()"),
        ({"inference_type": "t4"}, "()"),
        ({"celery": "maybe"}, "()"),
        ({"ref_id": 5}, "()"),
    ],
)
async def test_an_api_input_rule_is_refused_at_once_with_500(
    target: Target, change: dict[str, Any], error_data: str
) -> None:
    body = {key: value for key, value in {**valid_body(), **change}.items() if value is not None}
    response = await submit(target, body)

    assert response.status_code == 500
    assert response.json()["error"] == "Internal Error" and response.json()["error_data"] == error_data
    assert list(response.json()) == SEVEN_KEYS


async def test_lax_types_are_coerced_as_pydantic_does(target: Target) -> None:
    response = await submit(target, valid_body(batch="2", height="512.0", width=512.0, celery="true", strength=True))
    polled = await poll(target, response.json()["task_id"])

    assert response.status_code == 200 and response.json()["status"] == "PENDING"
    assert response.json()["input"]["celery"] is True
    assert response.json()["input"]["parameters"]["batch"] == "2"  # the raw body, as received
    assert polled.json()["status"] == "SUCCESS" and len(polled.json()["output"]["result"]) == 2


async def test_two_and_a_half_is_no_integer(target: Target) -> None:
    response = await submit(target, valid_body(batch=2.5))
    assert "int_from_float" in response.json()["error_data"]


@pytest.mark.parametrize("image", ["notaurl", "ftp://example.com/face.jpg", "https://", 5])
async def test_an_image_that_is_no_fetchable_url_fails_the_job(target: Target, image: Any) -> None:
    response = await submit(target, valid_body(image=image))

    assert response.status_code == 200
    assert response.json()["error"] == "Image URL Error"
    assert response.json()["error_data"] == "Given image type is not supported. Please try with JPG or PNG."


async def test_a_null_negative_prompt_fails_the_job_as_pythons_concatenation_does(target: Target) -> None:
    response = await submit(target, valid_body(negative_prompt=None))
    assert response.json()["error_data"] == "unsupported operand type(s) for +: 'NoneType' and 'str'"


async def test_a_success_has_seven_keys_and_echoes_the_backends_input(target: Target) -> None:
    response = await submit(target, {**valid_body(ref_id="mine"), "extra": 1})

    body = response.json()
    assert list(body) == SEVEN_KEYS and body["status"] == "SUCCESS"
    assert body["input"] == {
        "app_id": "IPAdapter_face_consistent_modal",
        "parameters": {**{k: v for k, v in valid_body().items() if k != "image"}, "ref_id": "mine", "extra": 1}
        | {"file_url": valid_body()["image"]},
        "init_parameters": {"model": "Colorful"},
        "ref_id": "mine",
        "celery": False,
        "inference_type": "a10g",
        "upscale": False,
        "check_copyright_content": True,
    }


async def test_low_res_outputs_are_full_size_webp_served_as_jpeg_beside_the_result(target: Target) -> None:
    output = (await submit(target, valid_body(width=512, height=768))).json()["output"]
    full = await target.client.get(output["result"][0])
    low_res = await target.client.get(output["low_res_urls"][0])

    assert "/low_res/" not in output["low_res_urls"][0]
    assert full.headers["content-type"] == low_res.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(low_res.content)).format == "WEBP"
    assert Image.open(io.BytesIO(low_res.content)).size == (512, 768)
    assert len(low_res.content) <= 100_000


async def test_results_are_kept_four_hours(target: Target) -> None:
    task_id = (await submit(target, valid_body(celery=True))).json()["task_id"]
    target.clock.advance(14_399)
    kept = (await poll(target, task_id)).json()["status"]
    target.clock.advance(1)
    expired = (await poll(target, task_id)).json()["status"]

    assert (kept, expired) == ("SUCCESS", "PENDING")


@pytest.mark.parametrize("body", [{}, {"id": None}, {"refID": "r"}])
async def test_a_status_read_without_an_id_answers_500_from_celery(target: Target, body: dict[str, Any]) -> None:
    response = await target.client.post("/getImage", json=body)

    assert response.status_code == 500
    assert response.json()["error_data"] == "(\"AsyncResult requires valid id, not <class 'NoneType'>\",)"


async def test_a_status_id_that_is_not_a_string_answers_fastapis_422(target: Target) -> None:
    response = await target.client.post("/getImage", json={"id": 5})

    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"type": "string_type", "loc": ["body", "task_id"], "msg": "Input should be a valid string", "input": 5}
        ]
    }


async def test_pending_reads_have_seven_keys_and_echo_the_status_model(target: Target) -> None:
    response = await target.client.post("/getImage", json={"id": "unknown", "refID": "r"})
    assert response.json() == {
        "time_required": {},
        "error": None,
        "error_data": None,
        "input": {"task_id": "unknown", "ref_id": "r"},
        "output": {},
        "task_id": "unknown",
        "status": "PENDING",
    }


@pytest.mark.parametrize(
    ("method", "path", "code", "detail"),
    [("POST", "/nope", 404, "Not Found"), ("GET", "/getImage", 405, "Method Not Allowed")],
)
async def test_unknown_paths_and_methods_answer_fastapis_detail(
    target: Target, method: str, path: str, code: int, detail: str
) -> None:
    response = await target.client.request(method, path)
    assert (response.status_code, response.json()) == (code, {"detail": detail})


@pytest.mark.parametrize("fault", ["task_crashed"])
async def test_a_crashed_worker_answers_500_at_the_poll(target: Target, fault: str) -> None:
    task_id = (await submit(target, valid_body(celery=True), headers={"X-Mock-Fault": fault})).json()["task_id"]
    response = await poll(target, task_id)

    assert response.status_code == 500
    assert response.json()["error"] == "Internal Error" and response.json()["input"] == {}


async def test_a_filtered_image_leaves_its_flag(target: Target) -> None:
    output = (await submit(target, valid_body(batch=3), headers={"X-Mock-Fault": "content_filtered"})).json()["output"]

    assert output["Has_NSFW_Content"] == [False, False, False]
    assert len(output["result"]) == len(output["low_res_urls"]) == 2


@pytest.fixture
async def in_2024() -> AsyncIterator[Target]:
    clock = VirtualClock()
    app = create_app(Config(fidelity="production-2024", tokens=frozenset({TOKEN})), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        yield Target(client, clock)


async def test_in_2024_a_failed_sync_job_answered_500_with_empty_input(in_2024: Target) -> None:
    response = await submit(in_2024, valid_body(batch=9))

    assert response.status_code == 500
    assert response.json()["error_data"].startswith(PYDANTIC_BATCH) and response.json()["input"] == {}


async def test_in_2024_a_failed_task_answered_500_when_polled(in_2024: Target) -> None:
    task_id = (await submit(in_2024, valid_body(celery=True), headers={"X-Mock-Fault": "no_face"})).json()["task_id"]
    response = await poll(in_2024, task_id)

    assert response.status_code == 500
    assert (response.json()["error"], response.json()["input"]) == ("Face Consistent Error", {})


async def test_in_2024_results_were_kept_one_hour(in_2024: Target) -> None:
    task_id = (await submit(in_2024, valid_body(celery=True))).json()["task_id"]
    in_2024.clock.advance(3600)
    assert (await poll(in_2024, task_id)).json()["status"] == "PENDING"


async def test_an_explicit_result_ttl_beats_the_profiles() -> None:
    app = create_app(Config(fidelity="production", result_ttl=60), clock=VirtualClock())
    assert app.state.backend.default.tasks.ttl == 60
