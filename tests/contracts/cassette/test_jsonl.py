"""A cassette is untrusted input: every value is checked when it is read, and each refusal is one line naming the
file, the line and the value; `serve --replay` then exits 2 before it announces a URL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts.cassette.jsonl import CassetteError
from contracts.cassette.reading import read_cassette
from mockserver import Config, ConfigError
from mockserver.cli import main
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH

HEADER = json.dumps({"qolaba_mock_cassette": 1, "upstream": "http://127.0.0.1:8000"})


def exchange(**changes: Any) -> dict[str, Any]:
    """A recorded queued submit, with any key replaced (`response`'s keys through `status=` and `headers=`)."""
    response = {"status": 200, "headers": {"content-type": "application/json"}, "json": {"status": "PENDING"}}
    for key in ("status", "headers"):
        if key in changes:
            response[key] = changes.pop(key)
    line: dict[str, Any] = {
        "seq": 1, "at": 0.0, "method": "POST", "path": "/getImagetoImage", "auth": "bearer", "token": "t1",
        "request": {"json": {"prompt": "p"}}, "response": response, "seconds": 0.4,
    }  # fmt: skip
    line.update(changes)
    return line


def poll(**changes: Any) -> dict[str, Any]:
    """A poll of that submit's task, 20 s after it."""
    polled = {"seq": 2, "path": "/getImage", "request": {"json": {"id": "t"}}, "task": {"submit": 1, "offset": 20.0}}
    return exchange(**{**polled, **changes})


def lines(*exchanges: dict[str, Any]) -> bytes:
    return "\n".join([HEADER, *(json.dumps(e) for e in exchanges)]).encode() + b"\n"


DEEP = b"[" * 100_000 + b"]" * 100_000
BAD_STATUS = "response.status={} must be a final HTTP status code, 200-599"
SECONDS = "must be a non-negative number of seconds, at most max_latency (3600)"

# (cassette bytes, the line it names, what the message says of it)
HOSTILE = [
    pytest.param(DEEP + b"\n", 1, "not JSON: The file nests deeper than 64 levels", id="file nested 100k deep"),
    pytest.param(
        HEADER.encode() + b'\n{"seq": 1, "request": {"json": ' + DEEP + b"}}\n", 2,
        "The line nests deeper than 66 levels", id="exchange nested 100k deep",
    ),
    pytest.param(
        lines(exchange()).replace(b'"seq": 1', b'"seq": 1' + b"0" * 5_000), 2,
        "A number in the line is too large to represent", id="5,000-digit integer",
    ),
    pytest.param(lines(exchange(status=9999)), 2, BAD_STATUS.format(9999), id="status 9999"),
    pytest.param(lines(exchange(status=0)), 2, BAD_STATUS.format(0), id="status 0"),
    pytest.param(lines(exchange(status=-1)), 2, BAD_STATUS.format(-1), id="status -1"),
    pytest.param(lines(exchange(status=100)), 2, BAD_STATUS.format(100), id="status 100, never an answer"),
    pytest.param(lines(exchange(status="200")), 2, BAD_STATUS.format("'200'"), id="status as text"),
    pytest.param(lines(exchange(status=True)), 2, BAD_STATUS.format(True), id="status true"),
    pytest.param(
        lines(exchange(), poll(task={"submit": 1, "offset": "soon"})), 3, f"task.offset='soon' {SECONDS}",
        id="offset 'soon'",
    ),
    pytest.param(
        lines(exchange(), poll(task={"submit": 1, "offset": -5})), 3, f"task.offset=-5 {SECONDS}", id="offset -5",
    ),
    pytest.param(lines(exchange(seconds=1e308)), 2, f"seconds=1e+308 {SECONDS}", id="seconds 1e308"),
    pytest.param(lines(exchange(seconds=3601)), 2, f"seconds=3601 {SECONDS}", id="seconds past max_latency"),
    pytest.param(
        lines(exchange()).replace(b'"seconds": 0.4', b'"seconds": NaN'), 2,
        "The line contains NaN, which JSON does not allow", id="seconds NaN",
    ),
    pytest.param(
        lines(exchange()).replace(b'"seconds": 0.4', b'"seconds": 1e999'), 2,
        "A number in the line is too large to represent", id="seconds 1e999",
    ),
    pytest.param(
        lines(exchange()).replace(b'"prompt": "p"', b'"prompt": "\\ud800"'), 2,
        "The line holds a lone surrogate (\\ud800-\\udfff), which is not valid Unicode", id="lone surrogate",
    ),
    pytest.param(
        lines(exchange()).replace(b'"prompt": "p"', b'"prompt": "\xff"'), 2,
        "The line is not valid JSON: it is not UTF-8 text", id="not UTF-8",
    ),
    pytest.param(lines(exchange(), poll(task={"submit": 7, "offset": 1})), 3,
                 "task.submit=7 must be the seq of an earlier line (the submit)", id="poll of no submit"),
    pytest.param(lines(exchange(), exchange()), 3, "seq=1 is used by an earlier line", id="seq twice"),
    pytest.param(lines(exchange(seq=0)), 2, "seq=0 must be a positive integer", id="seq 0"),
    pytest.param(lines(exchange(method="BREW")), 2, "method='BREW' must be an HTTP method", id="method"),
    pytest.param(lines(exchange(path="getImage")), 2, "path='getImage' must be a path starting with '/'", id="path"),
    pytest.param(lines(exchange(auth="basic")), 2, "auth='basic' must be 'bearer', 'other' or null", id="auth"),
    pytest.param(
        lines(exchange(headers={"retry-after": 5})), 2, "response.headers.retry-after=5 must be a string",
        id="header value not text",
    ),
    pytest.param(lines(exchange(request=[])), 2, "request=[] must be an object", id="request not an object"),
    pytest.param(lines(exchange(task=[1, 2])), 2, "task=[1, 2] must be", id="task not an object"),
    pytest.param(lines(exchange(headers=[])), 2, "response.headers=[] must be an object of strings", id="headers"),
    pytest.param(lines({"seq": 1}), 2, "at=null must be a non-negative number of seconds", id="at missing"),
    pytest.param(HEADER.encode() + b"\n[1, 2]\n", 2, "expected a JSON object, not an array", id="line an array"),
    pytest.param(HEADER.encode() + b"\n{\n", 2, "The line is not valid JSON", id="line cut short"),
    pytest.param(b'{"qolaba_mock_cassette": 2}\n', 1, "not a qolaba-mock cassette header", id="other format"),
    pytest.param(b'{"qolaba_mock_cassette": 1, "upstream": 5}\n', 1, "upstream=5 must be a string", id="upstream"),
]  # fmt: skip


@pytest.mark.parametrize(("content", "number", "message"), HOSTILE)
def test_a_hostile_cassette_is_refused_in_one_line_naming_the_file_the_line_and_the_value(
    tmp_path: Path, content: bytes, number: int, message: str
) -> None:
    cassette = tmp_path / "hostile.jsonl"
    cassette.write_bytes(content)

    with pytest.raises(CassetteError) as raised:
        read_cassette(cassette, max_seconds=3600)

    assert str(raised.value).startswith(f"{cassette}:{number}: {message}")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("content", "number", "message"), HOSTILE)
def test_serve_replay_of_a_hostile_cassette_exits_2_with_one_line_before_announcing_a_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, number: int, message: str
) -> None:
    cassette = tmp_path / "hostile.jsonl"
    cassette.write_bytes(content)

    code = main(["serve", "--port", "0", "--replay", str(cassette)])

    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.startswith(f"qolaba-mock: error: --replay: {cassette}:{number}: {message}")
    assert captured.err.count("\n") == 1


def test_max_latency_decides_how_long_a_recorded_wait_may_be(tmp_path: Path) -> None:
    cassette = tmp_path / "slow.jsonl"
    cassette.write_bytes(lines(exchange(seconds=5000), poll(task={"submit": 1, "offset": 7200})))

    with pytest.raises(ConfigError, match=r"slow.jsonl:2: seconds=5000 must be .* at most max_latency \(3600\)"):
        Config(replay=str(cassette))
    config = Config(replay=str(cassette), max_latency=7200)

    assert config.cassette is not None and [e.seconds for e in config.cassette.exchanges] == [5000, 0.4]


def test_a_cassette_is_read_once_however_often_the_config_is_rebuilt(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    cassette.write_bytes(lines(exchange(), poll()))
    first = Config(replay=str(cassette))

    again = Config(replay=str(cassette), latency="fixed:1s")  # as PATCH /__admin/config rebuilds it

    assert again.cassette is first.cassette


def test_an_empty_or_missing_cassette_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")

    with pytest.raises(CassetteError, match=r"empty.jsonl: is empty; a recording is our JSON lines"):
        read_cassette(tmp_path / "empty.jsonl")
    with pytest.raises(CassetteError, match=r"missing.jsonl: cannot be read: No such file or directory$"):
        read_cassette(tmp_path / "missing.jsonl")


def test_a_recorded_204_is_replayed_without_a_body_as_http_requires(tmp_path: Path) -> None:
    cassette = tmp_path / "c.jsonl"
    cassette.write_bytes(lines(exchange(path="/getImage", request={"json": {"id": "t"}}, status=204)))

    with LiveServer(Config(replay=str(cassette))) as server:
        answer = httpx.post(server.url + "/getImage", json={"id": "t"}, headers=AUTH, timeout=10)

    assert (answer.status_code, answer.content) == (204, b"")


@pytest.mark.parametrize("body", [b'{"id": NaN}', b'{"id": "\\ud800"}', b"[" * 100 + b"]" * 100, b"\xff"])
def test_a_body_recorded_as_text_is_matched_by_the_same_bytes_on_replay(tmp_path: Path, body: bytes) -> None:
    recorded = exchange(path="/getImage", request={"text": body.decode("utf-8", "replace"), "note": "…"}, status=400)
    cassette = tmp_path / "c.jsonl"
    cassette.write_bytes(lines(recorded))

    with LiveServer(Config(replay=str(cassette), replay_strict=True)) as server:
        answer = httpx.post(server.url + "/getImage", content=body, headers=AUTH, timeout=10)

    assert answer.status_code == 400 and answer.json() == {"status": "PENDING"}
