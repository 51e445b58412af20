"""HAR files as schemathesis writes them read as the exchanges they recorded, and ours survive a trip through HAR."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contracts.cassette.har_writer import write_har
from contracts.cassette.jsonl import CassetteError
from contracts.cassette.reading import read_cassette
from tests.contracts.cassette.real_recordings import record_ours, record_schemathesis


@pytest.fixture(scope="module")
def schemathesis_har(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("har") / "st.har"
    record_schemathesis(path, report="har")
    return path


def test_a_schemathesis_har_reads_as_its_api_calls_timed_by_its_entries(schemathesis_har: Path) -> None:
    entries = json.loads(schemathesis_har.read_bytes())["log"]["entries"]
    cassette = read_cassette(schemathesis_har)

    assert len(cassette.exchanges) == len(entries)
    assert [e.status for e in cassette.exchanges] == [entry["response"]["status"] for entry in entries]
    first = datetime.fromisoformat(entries[0]["startedDateTime"])
    assert [e.at for e in cassette.exchanges] == [
        round((datetime.fromisoformat(entry["startedDateTime"]) - first).total_seconds(), 6) for entry in entries
    ]
    assert [e.seconds for e in cassette.exchanges] == [round(entry["time"] / 1000, 3) for entry in entries]
    assert cassette.notes == () and cassette.held_credentials


def test_the_token_in_clear_is_named_and_made_up_ones_apart(schemathesis_har: Path) -> None:
    cassette = read_cassette(schemathesis_har)
    # schemathesis sends the configured token, none, and a made-up one (its ignored_auth check)
    assert {(e.auth, e.token) for e in cassette.exchanges} == {("bearer", "t1"), ("bearer", "t2"), (None, None)}


def test_ours_to_har_and_back_gives_the_same_exchanges(tmp_path: Path) -> None:
    ours = tmp_path / "ours.jsonl"
    record_ours(ours, fidelity="production")
    recorded = read_cassette(ours)
    har = tmp_path / "ours.har"
    write_har(har, recorded.exchanges, upstream=recorded.upstream, started=datetime(2026, 5, 1, tzinfo=UTC))

    back = read_cassette(har)

    assert back.exchanges == recorded.exchanges
    assert back.upstream == recorded.upstream
    assert not back.held_credentials  # the HAR holds names, never a token
    assert any(e.task for e in back.exchanges) and any(e.response.image for e in back.exchanges)


def test_a_har_from_another_tool_keeps_the_order_its_callers_were_seen_in(
    schemathesis_har: Path, tmp_path: Path
) -> None:
    """HAR -> ours -> HAR -> ours: the second reading names the callers as the first did."""
    first = read_cassette(schemathesis_har)
    again = tmp_path / "again.har"
    write_har(again, first.exchanges, upstream=first.upstream)
    assert read_cassette(again).exchanges == first.exchanges


def test_a_har_with_no_call_to_the_api_is_one_line_counting_what_it_skipped(tmp_path: Path) -> None:
    har = tmp_path / "browsing.har"
    entries = [
        _entry("https://cdn.example/app.js"),
        _entry("https://qolaba.example/login"),
        _entry("https://x.example/"),
    ]
    entries[1]["request"]["method"] = "POST"
    har.write_text(
        json.dumps({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": entries}})
    )
    with pytest.raises(CassetteError) as raised:
        read_cassette(har)
    assert str(raised.value) == (
        f"{har}: none of its 3 HAR entries is a call to the API (POST /getImagetoImage or /getImageToImage or "
        "/getImage, also under /api/v1/studio): 3 on other hosts"
    )


def _entry(url: str) -> dict[str, object]:
    return {
        "startedDateTime": "2026-05-01T10:00:00.000Z",
        "time": 12.5,
        "request": {"method": "GET", "url": url, "headers": []},
        "response": {"status": 200, "headers": [], "content": {"size": 0, "mimeType": "text/html"}},
    }
