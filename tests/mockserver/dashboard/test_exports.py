"""The journal exported as HAR 1.2 and as a cassette: the HAR holds HAR 1.2's structure, the cassette replays."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import jsonschema_rs
from starlette.testclient import TestClient

from contracts.cassette.reading import read_cassette
from mockserver import Config, LiveServer, VirtualClock
from tests.conftest import valid_body
from tests.mockserver.dashboard.conftest import AUTH, STATUS, SUBMIT, submit

# What HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) requires of a log and its entries.
_NAME_VALUES = {"type": "array", "items": {"type": "object", "required": ["name", "value"]}}
HAR_12 = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"type": "object", "required": ["name", "version"]},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["startedDateTime", "time", "request", "response", "cache", "timings"],
                        "properties": {
                            "startedDateTime": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"},
                            "time": {"type": "number", "minimum": 0},
                            "request": {
                                "type": "object",
                                "required": [
                                    "method", "url", "httpVersion", "cookies", "headers", "queryString",
                                    "headersSize", "bodySize",
                                ],
                                "properties": {"headers": _NAME_VALUES, "cookies": {"type": "array"}},
                            },
                            "response": {
                                "type": "object",
                                "required": [
                                    "status", "statusText", "httpVersion", "cookies", "headers", "content",
                                    "redirectURL", "headersSize", "bodySize",
                                ],
                                "properties": {
                                    "headers": _NAME_VALUES,
                                    "content": {"type": "object", "required": ["size", "mimeType"]},
                                },
                            },
                            "timings": {"type": "object", "required": ["send", "wait", "receive"]},
                        },
                    },
                },
            },
        }
    },
}  # fmt: skip


def test_the_filtered_journal_exports_as_har_1_2_without_the_token(client: TestClient) -> None:
    submit(client)
    submit(client, batch=99)
    answer = client.get("/__admin/ui/export.har?status=4xx")
    assert answer.headers["content-disposition"].startswith("attachment")
    har = answer.json()
    jsonschema_rs.validator_for(HAR_12).validate(har)
    assert [entry["response"]["status"] for entry in har["log"]["entries"]] == [422]
    assert "caller-token" not in answer.text
    assert {"name": "Authorization", "value": "Bearer [redacted t1]"} in har["log"]["entries"][0]["request"]["headers"]


def test_an_empty_journal_exports_an_empty_har(client: TestClient) -> None:
    har = client.get("/__admin/ui/export.har").json()
    jsonschema_rs.validator_for(HAR_12).validate(har)
    assert har["log"]["entries"] == []


def test_the_exported_cassette_replays_a_queued_task_to_its_end(make_client: object, tmp_path: Path) -> None:
    client = make_client(Config(seed=1, clock="virtual", latency="fixed:30s"))  # type: ignore[operator]
    task_id = submit(client, celery=True).json()["task_id"]
    client.post("/__admin/clock/advance", json={"seconds": 60})
    finished = client.post(STATUS, json={"id": task_id}, headers=AUTH).json()
    cassette = tmp_path / "dashboard.jsonl"
    exported = client.get("/__admin/ui/export.jsonl")
    cassette.write_text(exported.text)
    assert "caller-token" not in exported.text
    assert len(read_cassette(cassette).exchanges) == 2

    clock = VirtualClock()
    with LiveServer(Config(replay=str(cassette), replay_strict=True), clock=clock) as replay:
        queued = httpx.post(replay.url + SUBMIT, json=valid_body(celery=True), headers=AUTH).json()
        assert queued["status"] == "PENDING"
        clock.advance(60)
        polled = httpx.post(replay.url + STATUS, json={"id": queued["task_id"]}, headers=AUTH).json()
    assert polled["status"] == finished["status"] == "SUCCESS"


def test_the_cassette_export_keeps_the_filters(client: TestClient) -> None:
    submit(client)
    submit(client, batch=99)
    lines = client.get("/__admin/ui/export.jsonl?verdict=refused").text.splitlines()
    assert json.loads(lines[0])["qolaba_mock_cassette"] == 1
    assert [json.loads(line)["response"]["status"] for line in lines[1:]] == [422]
