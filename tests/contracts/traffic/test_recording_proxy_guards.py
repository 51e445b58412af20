"""The recording proxy keeps the fake's guards: what the fake refuses on loopback, the proxy refuses the same way,
and nothing it refuses reaches the upstream (a DNS-rebinding page cannot steer the upstream's admin API)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.traffic.recording_proxy import recording_proxy
from mockserver import Config
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH

JSON = {"Content-Type": "application/json"}
CHANGE = b'{"latency": "fixed:3000s", "faults": ["http_500"]}'


@pytest.fixture(scope="module")
def fake_and_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, LiveServer, Path]]:
    cassette = tmp_path_factory.mktemp("guards") / "c.jsonl"
    with LiveServer(Config()) as upstream:
        app = recording_proxy(upstream.url, cassette, say=lambda line: None)
        with LiveServer(Config(), app=app) as proxy:
            yield upstream, proxy, cassette
        app.state.close()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    # One client for the module: making one costs a TLS context each.
    with httpx.Client(timeout=10) as client:
        yield client


# (method, path, headers, body): each refused by the fake on loopback; `{port}` is the server's own port.
REFUSED = [
    pytest.param("PATCH", "/__admin/config", {"Host": "evil.example", "Origin": "http://evil.example", **JSON}, CHANGE,
                 id="rebinding page steering the admin API"),
    pytest.param("POST", "/getImage", {"Host": "evil.example:{port}", **AUTH, **JSON}, b'{"id": "x"}',
                 id="rebinding page calling the API"),
    pytest.param("GET", "/__admin/journal", {"Host": "127.0.0.1.nip.io"}, b"", id="rebound name reading the journal"),
    pytest.param("PATCH", "/__admin/config", {"Origin": "http://evil.example", **JSON}, CHANGE,
                 id="cross-origin admin write"),
    pytest.param("PATCH", "/__admin/config", {"Origin": "http://[", **JSON}, CHANGE, id="unparsable origin"),
    pytest.param("PATCH", "/__admin/config", {"Content-Type": "text/plain"}, CHANGE, id="admin write that is not JSON"),
]  # fmt: skip


def _send(
    http: httpx.Client, server: LiveServer, method: str, path: str, headers: dict[str, str], body: bytes
) -> httpx.Response:
    port = server.url.rsplit(":", 1)[1]
    headers = {name: value.replace("{port}", port) for name, value in headers.items()}
    return http.request(method, server.url + path, headers=headers, content=body)


@pytest.mark.parametrize(("method", "path", "headers", "body"), REFUSED)
def test_the_proxy_refuses_what_the_fake_refuses_in_the_same_words_and_sends_nothing_upstream(
    fake_and_proxy: tuple[LiveServer, LiveServer, Path],
    http: httpx.Client,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    upstream, proxy, cassette = fake_and_proxy
    lines_before = cassette.read_text().count("\n")

    direct = _send(http, upstream, method, path, headers, body)
    proxied = _send(http, proxy, method, path, headers, body)

    assert direct.status_code in (400, 403, 415)
    assert (proxied.status_code, proxied.json()) == (direct.status_code, direct.json())
    config = http.get(upstream.url + "/__admin/config").json()
    assert (config["latency"], config["faults"]) == ("none", [])
    assert http.get(upstream.url + "/__admin/journal").json()["entries"] == []
    assert cassette.read_text().count("\n") == lines_before  # a refused request is not an exchange


def test_the_proxy_forwards_the_origin_so_the_upstream_judges_it_too(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "PENDING"})

    app = recording_proxy("http://upstream", tmp_path / "c.jsonl", say=lambda line: None, transport=_mock(upstream))
    with LiveServer(Config(), app=app) as proxy:
        httpx.post(proxy.url + "/getImage", json={"id": "x"}, headers={"Origin": "http://localhost:3000"}, timeout=10)
    app.state.close()

    assert seen[0].headers["origin"] == "http://localhost:3000"
    assert seen[0].headers["host"] == "upstream"  # the upstream's own name, as a reverse proxy sends it


def test_an_allowed_host_reaches_the_upstream_through_the_proxy(tmp_path: Path) -> None:
    with LiveServer(Config(allowed_hosts=("app.test",))) as upstream:
        app = recording_proxy(upstream.url, tmp_path / "c.jsonl", say=lambda line: None, allowed_hosts=("app.test",))
        with LiveServer(Config(), app=app) as proxy:
            allowed = httpx.post(proxy.url + "/getImage", json={"id": "x"}, headers={**AUTH, "Host": "app.test"})
            refused = httpx.post(proxy.url + "/getImage", json={"id": "x"}, headers={**AUTH, "Host": "other.test"})
        app.state.close()

    assert (allowed.status_code, refused.status_code) == (200, 400)


def test_a_same_origin_admin_call_through_the_proxy_reaches_the_upstream(
    fake_and_proxy: tuple[LiveServer, LiveServer, Path], http: httpx.Client
) -> None:
    _, proxy, _ = fake_and_proxy

    answer = http.patch(proxy.url + "/__admin/config", json={"latency": "none"}, headers={"Origin": proxy.url})

    assert answer.status_code == 200 and answer.json()["latency"] == "none"


def _mock(handler: Any) -> httpx.AsyncBaseTransport:
    return httpx.MockTransport(handler)
