"""Any recording is recognised by its content, and bad input is one line naming the file and the line or entry.

The hostile files here are small and written by hand, on purpose: each breaks one thing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from contracts.cassette import jsonl, reading
from contracts.cassette.jsonl import CassetteError
from contracts.cassette.reading import read_cassette
from mockserver.cli import main

API = "https://qolaba.example/api/v1/studio"
PENDING = {"status": "PENDING", "task_id": "8c3e", "output": {}}


def entry(path: str = "/getImagetoImage", **changes: Any) -> dict[str, Any]:
    """A HAR entry of a queued submit, as a browser saves it, with any key replaced."""
    made: dict[str, Any] = {
        "startedDateTime": "2026-05-01T10:00:00.000Z",
        "time": 12.5,
        "request": {
            "method": "POST", "url": API + path, "headers": [{"name": "Content-Type", "value": "application/json"}],
            "postData": {"mimeType": "application/json", "text": json.dumps({"prompt": "p", "celery": True})},
        },
        "response": {
            "status": 200, "headers": [{"name": "content-type", "value": "application/json"}],
            "content": {"size": 40, "mimeType": "application/json", "text": json.dumps(PENDING)},
        },
    }  # fmt: skip
    made.update(changes)
    return made


def har(*entries: dict[str, Any], version: str = "1.2") -> bytes:
    return json.dumps(
        {"log": {"version": version, "creator": {"name": "t", "version": "1"}, "entries": list(entries)}}
    ).encode()


def poll_at(started: str) -> dict[str, Any]:
    polled = entry("/getImage", startedDateTime=started)
    polled["request"]["postData"]["text"] = json.dumps({"id": "8c3e"})
    return polled


BOMB = b"a: &a ['" + b"x" * 100 + b"']\ninteractions: [*a, *a, *a, *a]\n"
GOOD_HAR = har(entry())

# (file content, what the one line says after the file's name)
BAD = [
    pytest.param(b"hello, world\n", ": is not a recording qolaba-mock reads; expected our JSON lines", id="plain text"),
    pytest.param(bytes(range(256)) * 4, ": not a recording (our JSON lines", id="binary"),
    pytest.param(b"[1, 2]", ": is not a recording qolaba-mock reads", id="a JSON array"),
    pytest.param(b'{"entries": []}', ": is not a recording qolaba-mock reads", id="a JSON object of no format"),
    pytest.param(b"cassette:\n  - one\n", ": is not a recording qolaba-mock reads", id="YAML of no format"),
    pytest.param(b"   \n\n", ": is empty; a recording is our JSON lines", id="empty"),
    pytest.param(
        GOOD_HAR[: len(GOOD_HAR) // 2], ":1: not JSON (cut short?): The file is not valid JSON", id="HAR cut short"
    ),
    pytest.param(
        b"interactions:\n- request:\n    uri: 'http://x\n", ":4: not a recording (our JSON lines", id="YAML cut short"
    ),
    pytest.param(har(entry(), version="2.0"), ": HAR version '2.0'; qolaba-mock reads HAR 1.1 and 1.2", id="HAR 2.0"),
    pytest.param(b'{"log": {"entries": {}}}', ": log.entries={} must be an array", id="HAR entries not a list"),
    pytest.param(har(entry(time="slow")), ": entry 1.time='slow' must be an integer or a number", id="time text"),
    pytest.param(
        har(entry(startedDateTime="yesterday")), ": entry 1.startedDateTime='yesterday' must be a date and time",
        id="startedDateTime not a date",
    ),
    pytest.param(
        har(entry(startedDateTime="2026-05-01T10:00:00")), ": entry 1.startedDateTime='2026-05-01T10:00:00' must say "
        "its time zone", id="startedDateTime without a zone",
    ),
    pytest.param(
        har(entry(response={"status": 9999, "content": {"size": 0, "mimeType": ""}})),
        ": entry 1: response.status=9999 must be a final HTTP status code, 200-599", id="status 9999",
    ),
    pytest.param(
        har(entry(), poll_at("2026-05-01T12:00:00Z")),
        ": entry 2: task.offset=7200.0 must be a non-negative number of seconds, at most max_latency (3600)",
        id="a poll two hours after its submit",
    ),
    pytest.param(
        har(entry(request={"method": "POST", "url": API, "postData": {"text": "%%", "encoding": "base64"}})),
        ": entry 1.request.postData.text says base64 but is not", id="bad base64",
    ),
    pytest.param(
        har(entry(request="POST /getImage")), ": entry 1.request must be an object, not a string", id="request"
    ),
    pytest.param(
        b'{"interactions": [{"request": {"uri": "http://x/getImage"}, "response": {"status": {"code": 200}}}], '
        b'"version": 1}',
        ": interaction 1.request.method is missing", id="VCR.py interaction without a method",
    ),
    pytest.param(
        b'{"http_interactions": [{"request": {"method": "post", "uri": "http://x/getImage"}, "response": '
        b'{"status": {"code": "OK"}}}]}', ": interaction 1.response.status.code='OK' must be an HTTP status code",
        id="Ruby VCR status not a number",
    ),
    pytest.param(
        BOMB, ": uses YAML aliases (&anchor / *alias), which no VCR cassette needs; refused", id="YAML aliases"
    ),
]  # fmt: skip


@pytest.mark.parametrize(("content", "message"), BAD)
def test_bad_input_is_refused_in_one_line_naming_the_file_and_where(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "recording.yaml"
    path.write_bytes(content)
    with pytest.raises(CassetteError) as raised:
        read_cassette(path, max_seconds=3600)
    assert str(raised.value).startswith(f"{path}{message}")
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(("content", "message"), BAD[::4])
@pytest.mark.parametrize("command", ["diff", "serve", "convert"])
def test_each_command_exits_2_with_that_one_line(
    tmp_path: Path, content: bytes, message: str, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "recording.har"
    path.write_bytes(content)
    argv = {
        "diff": ["diff", "--cassette", str(path), "--fidelity", "contract"],
        "serve": ["serve", "--port", "0", "--replay", str(path)],
        "convert": ["cassette", "convert", str(path), str(tmp_path / "out.har")],
    }[command]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}{message}" in err
    assert not (tmp_path / "out.har").exists()


def test_a_file_is_recognised_by_its_content_whatever_its_name(tmp_path: Path) -> None:
    misnamed = tmp_path / "prod.jsonl"
    misnamed.write_bytes(har(entry()))
    assert read_cassette(misnamed).exchanges[0].path == "/getImagetoImage"


@pytest.mark.parametrize(
    ("start", "limit", "what"),
    [
        (b'{"log": {"entries": [', reading.MAX_DOCUMENT_BYTES, "64 MiB a HAR or JSON file"),
        (b"interactions:\n- request:\n", reading.MAX_YAML_BYTES, "16 MiB a YAML cassette"),
    ],
)
def test_a_har_or_vcr_file_past_the_limit_is_refused_before_it_is_parsed(
    tmp_path: Path, start: bytes, limit: int, what: str
) -> None:
    enormous = tmp_path / "enormous"
    with enormous.open("wb") as file:  # sparse: past the limit on paper, nothing on disk
        file.write(start)
        file.truncate(limit + (1 << 20))
    with pytest.raises(CassetteError) as raised:
        read_cassette(enormous)
    size = (limit >> 20) + 1
    assert str(raised.value) == (
        f"{enormous}: {size} MiB is more than the {what} may hold (README, Limits); split it, or record with "
        "qolaba-mock record"
    )


def test_a_cassette_of_ours_past_its_limits_is_one_line_naming_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "long.jsonl"
    path.write_text('{"qolaba_mock_cassette": 1, "upstream": "http://x"}\n' + (" " * 9 + "\n") * 100)
    monkeypatch.setattr(jsonl, "MAX_JSONL_BYTES", 500)
    with pytest.raises(CassetteError, match=r"long.jsonl:46: the file is longer than 0 MiB \(README, Limits\)$"):
        read_cassette(path)
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 20)
    with pytest.raises(CassetteError, match=r"long.jsonl:1: the line is longer than 0 MiB \(README, Limits\)$"):
        read_cassette(path)


def test_calls_to_other_hosts_and_paths_are_skipped_and_counted_in_a_note(tmp_path: Path) -> None:
    elsewhere = entry()
    elsewhere["request"]["url"] = "https://cdn.example/getImagetoImage"
    other_path = entry()
    other_path["request"]["url"] = API + "/login"
    blocked = entry(response={"status": 0, "content": {"size": 0, "mimeType": ""}})
    path = tmp_path / "devtools.har"
    path.write_bytes(har(entry(), elsewhere, other_path, blocked))
    cassette = read_cassette(path)
    assert len(cassette.exchanges) == 1 and cassette.upstream == API
    assert cassette.notes == (f"{path}: skipped 1 no final answer (status 0), 1 on other hosts, 1 to other paths",)
