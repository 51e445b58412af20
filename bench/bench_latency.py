"""Latency under a burst: 500 requests in flight at once against a live fake with `fixed:200ms`, against a
bare Starlette endpoint that sleeps 200 ms on the same stack, and against the fake with `none`.

Each target runs in a subprocess of its own (`qolaba-mock serve`, bench/_bare.py); rounds alternate between
them, so a machine busy with something else slows all alike. Every request is timed from its send to its
whole answer by a raw HTTP/1.1 client (an HTTP library costs more than the server at 500 connections); the
fake's own journal gives its arrival-to-answer time. Bounded: 3 rounds of 3 x 500 requests, 60 s timeout
each, about 15 s in all, loopback only.

    .venv/bin/python bench/bench_latency.py
"""

from __future__ import annotations

import statistics

import httpx
from _load import bare, burst, fake, percentile, servers, submit_request

REQUESTS = 500
ROUNDS = 3
CONFIGURED = 0.200


def server_side(url: str) -> list[float]:
    """Arrival-to-answer durations the fake recorded in its journal, which is then emptied for the next round."""
    params = {"path": "/getImagetoImage", "limit": 1000}
    entries = httpx.get(url + "/__admin/journal", params=params).json()["entries"]
    httpx.post(url + "/__admin/reset", json={"scope": "journal"}).raise_for_status()
    return [e["finished_at"] - e["started_at"] for e in entries]


def main() -> None:
    targets = {
        "fake, fixed:200ms": fake("--latency", f"fixed:{int(CONFIGURED * 1000)}ms"),
        "bare, sleep 200 ms": bare(CONFIGURED),
        "fake, latency none": fake("--latency", "none"),
    }
    times: dict[str, list[list[float]]] = {name: [] for name in targets}
    recorded: list[list[float]] = []
    with servers(**targets) as urls:
        for _ in range(ROUNDS):
            for name, url in urls.items():
                times[name].append(burst(url, submit_request("127.0.0.1"), requests=REQUESTS))
                if name.startswith("fake"):
                    at_server = server_side(url)
                    if "fixed" in name:
                        recorded.append(at_server)
    print(f"{REQUESTS} sync requests in flight at once, loopback, one uvicorn worker; median of {ROUNDS} rounds")
    rows = {f"client, {name}": rounds for name, rounds in times.items()}
    rows["server, fake, fixed:200ms"] = recorded
    for label, rounds in rows.items():
        p50 = statistics.median(percentile(values, 50) for values in rounds)
        p99 = statistics.median(percentile(values, 99) for values in rounds)
        print(f"  {label:28}: p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms")
    fake_p50 = statistics.median(percentile(values, 50) for values in times["fake, fixed:200ms"])
    bare_p50 = statistics.median(percentile(values, 50) for values in times["bare, sleep 200 ms"])
    print(f"  p50 fake / bare (both held 200 ms): {fake_p50 / bare_p50:.3f}")


if __name__ == "__main__":
    main()
