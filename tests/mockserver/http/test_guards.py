"""The fake on a developer's machine is steered only by its developer: admin auth, JSON-only writes, no
cross-origin or DNS-rebound calls, secrets that stay secret."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import Config, VirtualClock, create_app
from mockserver.cli import main
from mockserver.wire import auth
from tests.conftest import AUTH, TOKEN, valid_body

pytestmark = pytest.mark.anyio
JSON = {"Content-Type": "application/json"}


async def client_for(config: Config, base_url: str = "http://testserver") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(config, clock=VirtualClock())), base_url=base_url
    )


@pytest.fixture
async def locked() -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(Config(tokens=frozenset({TOKEN}))) as client:
        yield client


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/__admin/health", None),
        ("GET", "/__admin/journal", None),
        ("GET", "/__admin/config", None),
        ("PATCH", "/__admin/config", {"tokens": []}),
        ("PUT", "/__admin/faults", {"faults": ["http_500"]}),
        ("POST", "/__admin/reset", {}),
        ("DELETE", "/__admin/faults", None),
    ],
)
@pytest.mark.parametrize("authorization", [None, "Bearer not-the-token", "Basic x"])
async def test_a_server_with_tokens_refuses_admin_calls_without_one_of_them(
    locked: httpx.AsyncClient, method: str, path: str, body: Any, authorization: str | None
) -> None:
    headers = {**JSON, **({"Authorization": authorization} if authorization else {})}
    response = await locked.request(method, path, json=body, headers=headers)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["status"] == "FAILED" and "admin API needs one of the server's tokens" in str(
        response.json()["error_data"]
    )
    # Nothing changed: the real token still works and no fault was set.
    assert (await locked.post("/getImage", json={"id": "x"}, headers=AUTH)).status_code == 200


async def test_a_server_with_tokens_answers_admin_calls_that_carry_one(locked: httpx.AsyncClient) -> None:
    response = await locked.put("/__admin/faults", json={"faults": ["http_503"]}, headers=AUTH)

    assert response.status_code == 200
    assert (await locked.post("/getImage", json={"id": "x"}, headers=AUTH)).status_code == 503


async def test_a_server_without_tokens_keeps_its_admin_api_open() -> None:
    async with await client_for(Config()) as client:
        assert (await client.get("/__admin/health")).status_code == 200


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
@pytest.mark.parametrize(("method", "path"), [("PUT", "/__admin/faults"), ("POST", "/__admin/reset")])
async def test_admin_writes_that_are_not_json_are_refused_415(content_type: str | None, method: str, path: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    async with await client_for(Config()) as client:
        response = await client.request(method, path, content=b'{"faults": ["http_500"]}', headers=headers)
        faults = (await client.get("/__admin/faults")).json()["faults"]

    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["error_data"]
    assert faults == []  # the browser-style request changed nothing


async def test_admin_writes_from_another_origin_are_refused_403() -> None:
    async with await client_for(Config()) as client:
        response = await client.put(
            "/__admin/faults", json={"faults": ["http_500"]}, headers={"Origin": "https://evil.example"}
        )
        from_localhost = await client.put(
            "/__admin/faults", json={"faults": []}, headers={"Origin": "http://localhost:3000"}
        )

    assert response.status_code == 403
    assert from_localhost.status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io"])
@pytest.mark.parametrize("path", ["/__admin/journal", "/getImage"])
async def test_a_loopback_server_refuses_requests_naming_another_host(host: str, path: str) -> None:
    # As a DNS-rebinding page reaches it: over the loopback socket, with its own name in Host.
    async with await client_for(Config(), base_url="http://127.0.0.1:8000") as client:
        response = await client.request(
            "GET" if "admin" in path else "POST", path, json={"id": "x"}, headers={**AUTH, "Host": host}
        )

    assert response.status_code == 400
    assert response.json()["error"] == "Invalid Host"


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "app.localhost", "fake.test"])
async def test_a_loopback_server_answers_loopback_names_and_allowed_hosts(host: str) -> None:
    config = Config(allowed_hosts=("fake.test",))
    async with await client_for(config, base_url="http://127.0.0.1:8000") as client:
        response = await client.post("/getImage", json={"id": "x"}, headers={**AUTH, "Host": host})

    assert response.status_code == 200


async def test_in_process_clients_with_made_up_hosts_are_not_refused() -> None:
    async with await client_for(Config(), base_url="https://qolaba-server-b2b.up.railway.app") as client:
        assert (await client.post("/getImage", json={"id": "x"}, headers=AUTH)).status_code == 200


@pytest.mark.parametrize(
    ("tokens", "message"),
    [
        ("SECRET", "tokens=str must be a list of strings"),
        (["ok", 5], "tokens=list must be a list of strings"),
        (["ok", ""], "must be a list of non-empty strings"),
        ({"a": 1}, "tokens=dict must be a list of strings"),
    ],
)
async def test_tokens_must_be_a_list_of_non_empty_strings_and_are_never_echoed(tokens: Any, message: str) -> None:
    async with await client_for(Config()) as client:
        response = await client.patch("/__admin/config", json={"tokens": tokens})
        config = (await client.get("/__admin/config")).json()

    assert response.status_code == 422
    assert message in response.json()["error_data"][0]["message"]
    assert "SECRET" not in response.text
    assert config["tokens"] == 0  # unchanged: still open


async def test_replacing_the_tokens_must_keep_the_callers_own(locked: httpx.AsyncClient) -> None:
    locked_out = await locked.patch("/__admin/config", json={"tokens": ["someone-else"]}, headers=AUTH)
    rotated = await locked.patch("/__admin/config", json={"tokens": [TOKEN, "new-token"]}, headers=AUTH)

    assert locked_out.status_code == 422 and "include it" in locked_out.json()["error_data"][0]["message"]
    assert rotated.status_code == 200 and rotated.json()["tokens"] == 2


async def test_token_ids_are_keyed_so_a_guessed_token_cannot_be_confirmed_offline() -> None:
    async with await client_for(Config()) as client:
        await client.post("/getImagetoImage", json=valid_body(), headers={"Authorization": "Bearer guess-me"})
        entry = (await client.get("/__admin/journal")).json()["entries"][0]

    unkeyed = "tok_" + hashlib.sha256(b"guess-me").hexdigest()[:12]
    assert entry["token_id"].startswith("tok_") and not entry["token_id"].startswith(unkeyed)
    assert entry["token_id"] == auth.token_id({"authorization": "Bearer guess-me"})  # stable within the process
    assert "guess-me" not in str(entry)


class NotServing:
    """Stands in for the uvicorn server: `serve` gets as far as running it, and returns."""

    runs = 0

    def __init__(self, app: object, *, announce: str | None = None) -> None:
        self.exit_signals: list[int] = []

    def run(self, sockets: list[object]) -> None:
        NotServing.runs += 1


def test_serving_beyond_loopback_without_a_token_warns_on_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("mockserver.server.draining.DrainingServer", NotServing)
    runs = NotServing.runs
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--latency", "none"]) == 0
    err = capsys.readouterr().err

    assert NotServing.runs == runs + 1 and err.count("\n") == 1
    assert err.startswith("qolaba-mock: warning: serving on 0.0.0.0 with no --token")


def test_serving_beyond_loopback_with_a_token_does_not_warn(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("mockserver.server.draining.DrainingServer", NotServing)
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--token", "t"]) == 0
    assert capsys.readouterr().err == ""
