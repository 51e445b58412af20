"""The recording proxy holds bounded state and answers a bad exchange in JSON, without writing it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from contracts.cassette import token_names
from contracts.cassette.jsonl_writer import CassetteWriter
from contracts.cassette.reading import read_cassette
from contracts.spec.schema import max_request_bytes
from contracts.traffic.recording_proxy import recording_proxy
from mockserver import Config
from mockserver.server.live_server import LiveServer


def test_a_body_past_the_api_limit_is_refused_with_413_and_not_recorded(tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "SUCCESS"}))
    app = recording_proxy("http://upstream", out, say=lambda line: None, transport=_async(upstream))
    with LiveServer(Config(), app=app) as proxy:
        answer = httpx.post(proxy.url + "/getImagetoImage", content=b"x" * (max_request_bytes() + 1), timeout=10)
    app.state.close()
    assert answer.status_code == 413 and answer.json()["error"] == "Payload Too Large"
    assert read_cassette(out).exchanges == ()


def test_an_unreachable_upstream_is_a_502_envelope_and_one_printed_line(tmp_path: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    said: list[str] = []
    app = recording_proxy("http://upstream", tmp_path / "c.jsonl", say=said.append, transport=_async(refuse))
    with LiveServer(Config(), app=app) as proxy:
        answer = httpx.post(proxy.url + "/getImage", json={"id": "x"}, timeout=10)
    app.state.close()
    assert answer.status_code == 502 and answer.json()["error_data"] == "ConnectError: connection refused"
    assert said == ["upstream error: POST /getImage: ConnectError: connection refused"]


def test_past_the_bound_every_new_token_shares_one_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_names, "MAX_TOKEN_NAMES", 2)
    writer = CassetteWriter(tmp_path / "c.jsonl", "http://upstream").open()
    names = [writer.token_name(f"Bearer token-{n}")[1] for n in (1, 2, 3, 4, 1)]
    writer.close()
    assert names == ["t1", "t2", "t+", "t+", "t1"]


def _async(handler: object) -> httpx.AsyncBaseTransport:
    return httpx.MockTransport(handler)  # type: ignore[arg-type]
