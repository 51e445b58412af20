"""The fake in-process, as property-based tests use it: time per sync submit, memory per queued task.

1. µs per sync submit called straight through the ASGI app (no network, no HTTP client), and through
   httpx.AsyncClient on `QolabaMock.async_transport()`, which adds httpx's own cost;
2. bytes per queued task (tracemalloc): what stays in memory for each queued submit, with its journal
   entry, and once the journal is emptied (the task, its answer, the output images its URLs name).

Bounded: 5 rounds of 2,000 calls each way, then 5,000 queued submits; about 10 s in all.

    .venv/bin/python bench/bench_inprocess.py
"""

from __future__ import annotations

import asyncio
import gc
import json
import statistics
import time
import tracemalloc
from typing import Any

import httpx
from _load import BODY

from mockserver import Config, QolabaMock, create_app

ROUNDS = 5
CALLS = 2_000
TASKS = 5_000
HEADERS = [(b"host", b"testserver"), (b"authorization", b"Bearer bench"), (b"content-type", b"application/json")]


def _scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/getImagetoImage",
        "raw_path": b"/getImagetoImage",
        "root_path": "",
        "query_string": b"",
        "headers": [*HEADERS, (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def asgi_call(app: Any, body: bytes) -> int:
    """One request straight through the ASGI app; its status code."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    await app(_scope(body), receive, send)
    status: int = messages[0]["status"]
    return status


async def per_call_asgi(rounds: int, calls: int) -> list[float]:
    app = create_app(Config(latency="none"))
    body = json.dumps(BODY).encode()
    assert await asgi_call(app, body) == 200
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            await asgi_call(app, body)
        timings.append((time.perf_counter() - started) / calls)
    return timings


async def per_call_httpx(rounds: int, calls: int) -> list[float]:
    mock = QolabaMock(create_app(Config(latency="none")))
    headers = {"Authorization": "Bearer bench"}
    async with httpx.AsyncClient(transport=mock.async_transport(), base_url="http://testserver") as client:
        assert (await client.post("/getImagetoImage", json=BODY, headers=headers)).status_code == 200
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                await client.post("/getImagetoImage", json=BODY, headers=headers)
            timings.append((time.perf_counter() - started) / calls)
    return timings


async def bytes_per_task(tasks: int) -> tuple[float, float, int]:
    """Bytes held per queued task with its journal entry, then once the journal is emptied; tasks held."""
    app = create_app(Config(latency="none"))
    body = json.dumps({**BODY, "celery": True}).encode()
    assert await asgi_call(app, body) == 200
    backend = app.state.backend
    backend.reset("all")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(tasks):
        await asgi_call(app, body)
    gc.collect()
    with_journal = tracemalloc.get_traced_memory()[0]
    backend.reset("journal")
    gc.collect()
    without_journal = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return (with_journal - before) / tasks, (without_journal - before) / tasks, len(backend.default.tasks)


def main() -> None:
    asgi = asyncio.run(per_call_asgi(ROUNDS, CALLS))
    through_httpx = asyncio.run(per_call_httpx(ROUNDS, CALLS))
    with_entry, per_task, kept = asyncio.run(bytes_per_task(TASKS))
    print("in-process, sync submits (latency none)")
    for label, values in [("through the ASGI app", asgi), ("through httpx.AsyncClient", through_httpx)]:
        rounds = " ".join(f"{value * 1e6:.0f}" for value in values)
        print(f"  {label:26}: median {statistics.median(values) * 1e6:6.1f} µs per call  (rounds: {rounds})")
    print(f"  memory per queued task    : {per_task:,.0f} bytes ({kept:,} tasks held, journal emptied)")
    print(f"  ... with its journal entry: {with_entry:,.0f} bytes")


if __name__ == "__main__":
    main()
