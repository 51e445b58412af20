"""The HAR we write validates against HAR 1.2, passes Chromium's importer checks, and never holds a token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema_rs
import pytest

from contracts.cassette.har_writer import to_har, write_har
from contracts.cassette.jsonl import Exchange, Message
from tests.contracts.cassette.har_structure import HAR_1_2, chromium_import_problems

STARTED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SUBMIT = {"app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "prompt": "p", "celery": True}
QUEUED = {"status": "PENDING", "task_id": "8c3e", "output": {}}
JSON = {"content-type": "application/json"}


def exchanges() -> list[Exchange]:
    """A queued submit, its poll, a refusal without credentials, a text body and an image, as recorded."""
    submit = Message(json=SUBMIT, is_json=True, content_type="application/json")
    poll = Message(json={"id": "8c3e"}, is_json=True, content_type="application/json")
    text = Message(text="{bad", note="The body is not JSON.", content_type="text/plain")
    image = Message(image={"media_type": "image/jpeg", "bytes": 1234, "width": 64, "height": 48})
    answer = Message(json=QUEUED, is_json=True)
    done = Message(json={"status": "SUCCESS"}, is_json=True)
    link = {"submit": 1, "offset": 20.5}
    return [
        Exchange(1, 0.0, "POST", "/getImagetoImage", "bearer", "t1", submit, 200, JSON, answer, 0.25),
        Exchange(2, 20.5, "POST", "/getImage", "bearer", "t2", poll, 200, JSON, done, 0.05, link),
        Exchange(3, 21.0, "POST", "/getImage", None, None, poll, 401, JSON, Message(json={}, is_json=True)),
        Exchange(4, 22.0, "POST", "/getImage", "other", None, text, 400, JSON, Message(json={}, is_json=True)),
        Exchange(5, 23.0, "GET", "/outputs/a.jpg", None, None, Message(), 200, {"content-type": "image/jpeg"}, image),
    ]  # fmt: skip


def test_a_har_we_write_validates_against_the_har_1_2_structure() -> None:
    har = to_har(exchanges(), upstream="https://api.example/api/v1/studio", started=STARTED)
    validator = jsonschema_rs.validator_for(HAR_1_2, validate_formats=True)
    assert [error.message for error in validator.iter_errors(har)] == []
    assert len(har["log"]["entries"]) == 5


def test_a_har_we_write_passes_every_check_of_chromiums_importer() -> None:
    assert chromium_import_problems(to_har(exchanges(), started=STARTED)) == []


def test_the_importer_checks_catch_what_chromium_refuses() -> None:
    """The checks above can fail: an entry without sizes or timings is one Chromium does not import."""
    har = to_har(exchanges()[:1], started=STARTED)
    entry = har["log"]["entries"][0]
    del entry["timings"]["wait"], entry["request"]["headersSize"]
    entry["startedDateTime"] = "yesterday"
    assert chromium_import_problems(har) == [
        "entries[0].startedDateTime: Invalid date format",
        "entries[0].request.headersSize: Number() gives NaN for None",
        "entries[0].timings.wait: Number() gives NaN for None",
    ]


def test_each_entry_says_what_was_sent_and_answered_and_when() -> None:
    first, poll, anonymous, other, image = to_har(exchanges(), upstream="https://api.example/v1/", started=STARTED)[
        "log"
    ]["entries"]
    assert first["request"]["url"] == "https://api.example/v1/getImagetoImage"
    assert json.loads(first["request"]["postData"]["text"]) == SUBMIT
    assert json.loads(first["response"]["content"]["text"]) == QUEUED
    assert first["startedDateTime"] == "2026-01-02T03:04:05.000000+00:00" and first["time"] == 250
    assert poll["startedDateTime"] == "2026-01-02T03:04:25.500000+00:00"
    assert poll["_qolaba_mock"] == {"seq": 2, "task": {"submit": 1, "offset": 20.5}}
    assert {"name": "Authorization", "value": "Bearer [redacted t2]"} in poll["request"]["headers"]
    assert all(h["name"] != "Authorization" for h in anonymous["request"]["headers"])
    assert {"name": "Authorization", "value": "Basic [redacted]"} in other["request"]["headers"]
    assert other["_qolaba_mock"]["request_note"] == "The body is not JSON."
    assert image["response"]["content"] == {
        "size": 1234, "mimeType": "image/jpeg", "comment": "the image's bytes were not recorded",
    }  # fmt: skip
    assert image["_qolaba_mock"]["image"]["width"] == 64


@pytest.mark.parametrize("count", [0, 1, 5])
def test_write_har_streams_the_same_document_to_json(tmp_path: Path, count: int) -> None:
    path = tmp_path / "out.har"
    written = write_har(path, exchanges()[:count], started=STARTED)
    assert written == count
    assert json.loads(path.read_text(encoding="utf-8")) == to_har(exchanges()[:count], started=STARTED)
