"""Wrong method, unknown path, oversized body and bad auth: a clear 4xx envelope, never a 5xx."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.applications import Starlette

from mockserver import Config
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio

ONE_MIB = 1024 * 1024


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/getImagetoImage", "/getImage", "/api/v1/studio/getImage"])
async def test_wrong_method_answers_405_with_allow_header(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["error"] == "Method Not Allowed"


async def test_unknown_path_answers_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.post("/getTextToImage", json={})

    assert response.status_code == 404
    assert response.json()["status"] == "FAILED"
    assert response.json()["error"] == "Not Found"


async def test_body_over_one_mebibyte_answers_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImagetoImage", content=b" " * (ONE_MIB + 1))

    assert response.status_code == 413
    assert response.json()["error"] == "Payload Too Large"


async def test_body_of_exactly_one_mebibyte_is_read(client: httpx.AsyncClient) -> None:
    body = b'{"id": "x"}'
    response = await client.post("/getImage", content=body + b" " * (ONE_MIB - len(body)))
    assert response.status_code == 200


async def test_streamed_body_stops_being_read_past_the_limit(client: httpx.AsyncClient) -> None:
    sent = 0

    async def endless_chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 64 * ONE_MIB:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    # No Content-Length: the limit must be enforced while streaming.
    response = await client.post("/getImagetoImage", content=endless_chunks())

    assert response.status_code == 413
    assert sent < 2 * ONE_MIB


async def test_declared_oversized_body_is_refused_before_reading(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImage", content=b"{}", headers={"Content-Length": str(5 * ONE_MIB)})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "bearer-token", "Token abc"],
)
async def test_missing_or_malformed_authorization_answers_401_with_challenge(
    client: httpx.AsyncClient, header: str | None
) -> None:
    headers = {} if header is None else {"Authorization": header}
    client.headers.pop("Authorization")

    response = await client.post("/getImagetoImage", json=valid_body(), headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["error"] == "Not authenticated"


async def test_any_non_empty_token_is_accepted_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImage", json={"id": "x"}, headers={"Authorization": "Bearer anything"})
    assert response.status_code == 200


@pytest.fixture
async def restricted(make_app: Callable[..., Starlette]) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(Config(tokens=frozenset({"sk-one", "sk-two"})))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def test_unknown_token_is_rejected_when_tokens_are_restricted(restricted: httpx.AsyncClient) -> None:
    response = await restricted.post("/getImage", json={"id": "x"}, headers={"Authorization": "Bearer sk-three"})

    assert response.status_code == 401
    assert response.json()["error"] == "Invalid API Key"
    assert "www-authenticate" not in response.headers


@pytest.mark.parametrize("token", ["sk-one", "sk-two"])
async def test_each_configured_token_is_accepted(restricted: httpx.AsyncClient, token: str) -> None:
    response = await restricted.post("/getImage", json={"id": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_auth_is_checked_before_the_body(client: httpx.AsyncClient) -> None:
    client.headers.pop("Authorization")
    response = await client.post("/getImagetoImage", content=b"{not json")
    assert response.status_code == 401


async def test_server_keeps_serving_after_every_kind_of_bad_request(client: httpx.AsyncClient) -> None:
    bad_requests = [
        client.post("/getImagetoImage", content=b"\x00\x01"),
        client.post("/getImagetoImage", content=b" " * (ONE_MIB + 1)),
        client.get("/getImage"),
        client.post("/nowhere"),
        client.post("/getImagetoImage", json=valid_body(batch=None)),
    ]
    for request in bad_requests:
        assert 400 <= (await request).status_code < 500

    response = await client.post("/getImagetoImage", json=valid_body())
    assert response.status_code == 200


async def test_health_reports_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/__admin/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_contract_is_served_as_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json()["paths"].keys() == {"/getImagetoImage", "/getImage"}


async def test_unexpected_exception_answers_500_envelope_not_a_traceback(
    make_app: Callable[..., Starlette], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app()

    def broken_submit(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.state.backend, "submit", broken_submit)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH) as client:
        response = await client.post("/getImagetoImage", json=valid_body())

    assert response.status_code == 500
    assert response.json()["error"] == "Internal Error"
    assert response.json()["status"] == "FAILED"


async def test_a_latency_header_above_max_latency_is_refused_not_slept(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Latency": "fixed:1000000s"})

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid Mock Header"
    assert "max_latency" in response.json()["error_data"]


async def test_duplicate_keys_count_once_the_last_one_winning(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/getImage", content=b'{"id": 5, "id": "x"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200 and response.json()["task_id"] == "x"
