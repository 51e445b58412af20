"""Every row of PRODUCT.md's envelope table, through the in-process app."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mockserver.wire.envelope import KEYS
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio


def assert_envelope(response: httpx.Response, status: str) -> dict:
    body = response.json()
    assert list(body) == list(KEYS)
    assert body["status"] == status
    assert response.headers["content-type"] == "application/json"
    return body


async def test_sync_call_answers_success_with_outputs_and_timing(client: httpx.AsyncClient) -> None:
    request = valid_body(batch=3)
    response = await client.post("/getImagetoImage", json=request)

    assert response.status_code == 200
    body = assert_envelope(response, "SUCCESS")
    assert body["error"] is None and body["error_data"] is None and body["task_id"] is None
    assert body["input"] == request
    assert body["app_id"] == request["app_id"]
    assert set(body["time_required"]) == {"startup_time", "runtime"}
    assert all(isinstance(v, float) for v in body["time_required"].values())
    output = body["output"]
    assert set(output) == {"result", "Has_NSFW_Content", "low_res_urls"}
    assert len(output["result"]) == len(output["Has_NSFW_Content"]) == len(output["low_res_urls"]) == 3
    assert all(url.startswith("http://testserver/outputs/") for url in output["result"] + output["low_res_urls"])


async def test_queued_call_answers_pending_with_a_uuid4_task_id(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImagetoImage", json=valid_body(celery=True))

    assert response.status_code == 200
    body = assert_envelope(response, "PENDING")
    assert uuid.UUID(body["task_id"]).version == 4
    assert body["output"] == {} and body["time_required"] == {}
    assert body["error"] is None and body["error_data"] is None


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object, not an array"),
        (b'"a string"', "must be a JSON object, not a string"),
        (b"null", "must be a JSON object, not null"),
        (b"", "empty"),
        (b"   ", "empty"),
        (b'{"batch": NaN}', "NaN"),
        (b'{"batch": Infinity}', "Infinity"),
        (b'{"batch": -Infinity}', "-Infinity"),
        (b'{"guidance_scale": 1e400}', "too large"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"id": "\\ud800"}', "lone surrogate"),
        (b'{"ignored": "\\udfff", "id": "x"}', "lone surrogate"),
        (b'{"id": "\xed\xa0\x80"}', "not valid JSON"),
        (b'{"prompt": ' + b"[" * 300 + b"]" * 300 + b"}", "nests deeper than 64 levels"),
        (b'{"prompt": ' + b"[" * 990 + b"]" * 990 + b"}", "nests deeper than 64 levels"),
        (b"[" * 100_000, "nests deeper than 64 levels"),
        (b'{"batch": ' + b"9" * 400 + b"}", "too large"),
    ],
)
@pytest.mark.parametrize("path", ["/getImagetoImage", "/getImage"])
async def test_body_that_is_not_a_json_object_answers_400(
    client: httpx.AsyncClient, path: str, raw: bytes, detail: str
) -> None:
    response = await client.post(path, content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code == 400
    body = assert_envelope(response, "FAILED")
    assert body["error"] == "Invalid JSON"
    assert detail in body["error_data"]


async def test_contract_violation_answers_422_listing_every_broken_rule(client: httpx.AsyncClient) -> None:
    request = valid_body(batch=9, height=255, celery=0, inference_type="tpu")
    del request["prompt"]

    response = await client.post("/getImagetoImage", json=request)

    assert response.status_code == 422
    body = assert_envelope(response, "FAILED")
    assert body["error"] == "Input Validation Error"
    assert [e["field"] for e in body["error_data"]] == ["prompt", "batch", "height", "celery", "inference_type"]
    assert all(set(e) == {"field", "message"} and e["message"] for e in body["error_data"])
    assert body["input"] == request


async def test_status_violation_answers_422_naming_the_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImage", json={"id": 7, "refID": None})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["error_data"]] == ["id", "refID"]


async def test_unknown_extra_keys_are_ignored(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImagetoImage", json=valid_body(upscale=True, colour="blue"))

    assert response.status_code == 200
    assert response.json()["status"] == "SUCCESS"


@pytest.mark.parametrize(
    "path", ["/getImagetoImage", "/getImageToImage", "/api/v1/studio/getImagetoImage", "/api/v1/studio/getImageToImage"]
)
async def test_submit_is_served_under_both_spellings_and_the_studio_prefix(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.post(path, json=valid_body())
    assert response.status_code == 200


async def test_status_is_served_under_the_studio_prefix(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/studio/getImage", json={"id": "abc"})
    assert response.status_code == 200
    assert response.json()["status"] == "PENDING"


@pytest.mark.parametrize(
    ("base_url", "root_path", "expected"),
    [
        ("http://testserver", "", "http://testserver/outputs/"),
        ("https://fake.example:8443", "", "https://fake.example:8443/outputs/"),
        ("http://127.0.0.1:9000", "/studio", "http://127.0.0.1:9000/studio/outputs/"),
        ("http://[::1]:9000", "", "http://[::1]:9000/outputs/"),
    ],
)
async def test_output_urls_are_under_the_base_url_each_request_arrived_on(
    app: Any, base_url: str, root_path: str, expected: str
) -> None:
    # One app answers every host in turn: a base URL worked out for one request never leaks into another's.
    for url in (base_url, "http://other.example", base_url):
        transport = httpx.ASGITransport(app=app, root_path=root_path if url == base_url else "")
        async with httpx.AsyncClient(transport=transport, base_url=url, headers=AUTH) as client:
            output = (await client.post("/getImagetoImage", json=valid_body())).json()["output"]
        prefix = expected if url == base_url else "http://other.example/outputs/"
        assert all(link.startswith(prefix) for link in output["result"] + output["low_res_urls"]), output
