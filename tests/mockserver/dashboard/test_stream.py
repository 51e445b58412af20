"""The live journal over Server-Sent Events, at a bounded cost: capped streams, no queue, a stalled browser
dropped, and every stream ended by the server's shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.testclient import TestClient

from mockserver import Config, LiveServer
from mockserver.dashboard import stream
from mockserver.dashboard.stream import EventStream, StreamGate
from tests.mockserver.dashboard.conftest import AUTH, STATUS, XSS_PROMPTS, submit


def _events(text: str) -> list[tuple[str, str]]:
    found = []
    for block in text.split("\n\n"):
        lines = block.splitlines()
        name = next((line[7:] for line in lines if line.startswith("event: ")), None)
        if name is not None:
            found.append((name, "\n".join(line[6:] for line in lines if line.startswith("data: "))))
    return found


def test_a_stream_sends_the_new_rows_that_pass_its_filters_escaped_and_ends_at_shutdown(client: TestClient) -> None:
    submit(client)  # 1: before the page was rendered
    for prompt in XSS_PROMPTS:
        submit(client, prompt=prompt, batch=99)  # 2, 3: refused
    client.post(STATUS, json={"id": "x"}, headers=AUTH)  # 4: filtered out
    client.app.state.drain.start()  # type: ignore[attr-defined]
    answer = client.get("/__admin/ui/stream?after=1&verdict=refused")
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = _events(answer.text)
    assert [name for name, _ in events] == ["hello", "row", "row", "closed"]
    rows = [data for name, data in events if name == "row"]
    assert 'data-seq="2"' in rows[0] and 'data-seq="3"' in rows[1]
    assert "<script>" not in answer.text and "<img" not in answer.text
    assert client.app.state.dashboard_streams.open == 0  # type: ignore[attr-defined]


def test_past_the_stream_cap_the_next_dashboard_gets_a_clear_429(client: TestClient) -> None:
    gate: StreamGate = client.app.state.dashboard_streams  # type: ignore[attr-defined]
    gate.open = gate.limit
    answer = client.get("/__admin/ui/stream")
    assert answer.status_code == 429
    refusal = answer.json()
    assert refusal["status"] == "FAILED" and refusal["error"] == "Too Many Streams"
    assert f"{gate.limit} dashboards already follow" in refusal["error_data"]


def test_a_burst_past_one_batch_is_skipped_and_said_not_buffered(client: TestClient) -> None:
    for _ in range(stream.BATCH_ROWS + 7):
        client.post(STATUS, json={"id": "x"}, headers=AUTH)
    client.app.state.drain.start()  # type: ignore[attr-defined]
    events = _events(client.get("/__admin/ui/stream").text)
    assert ("skipped", "7") in events
    assert sum(1 for name, _ in events if name == "row") == stream.BATCH_ROWS


@pytest.mark.anyio
async def test_a_browser_that_stops_reading_is_dropped_and_its_slot_freed() -> None:
    gate = StreamGate(limit=1)
    assert gate.enter()

    async def endless() -> AsyncIterator[str]:
        while True:
            yield "event: row\ndata: x\n\n"

    sent: list[object] = []

    async def stalled_send(message: object) -> None:
        sent.append(message)
        if len(sent) > 1:
            await asyncio.Event().wait()  # the browser's window is full and stays so

    await EventStream(endless(), gate.leave, send_seconds=0.01).stream_response(stalled_send)
    assert gate.open == 0 and len(sent) == 2


def test_a_live_stream_ends_when_the_server_stops() -> None:
    server = LiveServer(Config(seed=1)).start()
    try:
        with (
            httpx.Client(base_url=server.url, timeout=30) as client,
            client.stream("GET", "/__admin/ui/stream") as live,
        ):
            lines = live.iter_lines()
            assert next(lines) == "event: hello"
            server.stop()
            rest = list(lines)  # ends: the server closed the stream rather than holding it open
    finally:
        server.stop()
    assert "event: closed" in rest
