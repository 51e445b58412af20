"""Bodies the fake refuses pass the recording proxy as the fake answers them, and each exchange is one cassette line
of RFC 8259 JSON: never a 500, never a lost line, never a bare NaN."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.cassette.reading import read_cassette
from contracts.traffic.recording_proxy import recording_proxy
from mockserver import Config
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH

HOSTILE = [
    pytest.param(b'{"id": ' + b"[" * 5_000 + b"]" * 5_000 + b"}", id="nested 5,000 deep"),
    pytest.param(b'{"id": "\\ud800"}', id="lone surrogate"),
    pytest.param(b'{"id": NaN}', id="NaN"),
    pytest.param(b'{"id": -Infinity}', id="Infinity"),
    pytest.param(b'{"id": 1' + b"0" * 5_000 + b"}", id="5,000-digit integer"),
    pytest.param(b'{"id": 1e999}', id="number past a double"),
    pytest.param(b'{"id": "\xff\xfe"}', id="not UTF-8"),
    pytest.param(b'{"id": "x"', id="cut short"),
    pytest.param(b"   ", id="only spaces"),
]


def strict_json(line: str) -> Any:
    """The line as RFC 8259 JSON: NaN and Infinity refused, as any strict reader refuses them."""

    def reject(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=reject)


@pytest.fixture(scope="module")
def through_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, LiveServer, str, Path]]:
    cassette = tmp_path_factory.mktemp("hostile") / "c.jsonl"
    with LiveServer(Config()) as upstream:
        app = recording_proxy(upstream.url, cassette, say=lambda line: None)
        with LiveServer(Config(), app=app) as proxy, httpx.Client(timeout=10) as http:
            yield http, upstream, proxy.url, cassette
        app.state.close()


@pytest.mark.parametrize("body", HOSTILE)
@pytest.mark.parametrize("path", ["/getImage", "/getImagetoImage"])
def test_a_hostile_body_is_answered_as_the_fake_answers_it_and_recorded_as_one_json_line(
    through_proxy: tuple[httpx.Client, LiveServer, str, Path], body: bytes, path: str
) -> None:
    http, upstream, proxy_url, cassette = through_proxy
    headers = {**AUTH, "Content-Type": "application/json"}

    direct = http.post(upstream.url + path, content=body, headers=headers)
    proxied = http.post(proxy_url + path, content=body, headers=headers)

    assert direct.status_code in (400, 422)
    assert (proxied.status_code, proxied.json()) == (direct.status_code, direct.json())
    lines = cassette.read_bytes().decode("utf-8").splitlines()  # strict UTF-8: no lone surrogate written
    recorded = strict_json(lines[-1])
    assert recorded["path"] == path and recorded["response"]["status"] == direct.status_code
    assert recorded["request"]["text"] == body.decode("utf-8", "replace")
    assert recorded["request"]["note"]  # why it is text: what the fake's decoder said of it
    assert read_cassette(cassette).exchanges[-1].request.text == recorded["request"]["text"]


@pytest.mark.parametrize(
    ("answer", "note"),
    [
        (b'{"status": NaN}', "NaN"),
        (b"[" * 100 + b"]" * 100, "nests deeper than 64"),
        (b"<html>Bad Gateway</html>", "not valid JSON"),
        (b'{"error": "\\udc00"}', "lone surrogate"),
    ],
)
def test_an_upstream_answer_that_is_not_json_is_forwarded_as_it_came_and_recorded_as_text_with_a_note(
    tmp_path: Path, answer: bytes, note: str
) -> None:
    def upstream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=answer, headers={"Content-Type": "application/json"})

    out = tmp_path / "c.jsonl"
    app = recording_proxy("http://upstream", out, say=lambda line: None, transport=httpx.MockTransport(upstream))
    with LiveServer(Config(), app=app) as proxy:
        forwarded = httpx.post(proxy.url + "/getImage", json={"id": "x"}, timeout=10)
    app.state.close()

    assert (forwarded.status_code, forwarded.content) == (502, answer)
    recorded = strict_json(out.read_bytes().decode("utf-8").splitlines()[-1])["response"]
    assert recorded["text"] == answer.decode() and note in recorded["note"]


def test_a_value_json_cannot_hold_is_made_plain_rather_than_losing_its_line() -> None:
    from contracts.cassette.jsonl_writer import encode_line

    line = encode_line({"seq": 1, "at": float("nan"), "request": {"text": "\ud800x"}})

    assert line.endswith("\n") and strict_json(line) == {"seq": 1, "at": None, "request": {"text": "?x"}}
