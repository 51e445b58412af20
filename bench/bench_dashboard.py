"""The dashboard's cost: the fake's throughput with one dashboard following the journal live, against none; and
the server-side time to render the journal page with 10,000 entries in the namespace.

Throughput: one live fake (subprocess, `--latency none`), 64 keep-alive connections sending sync submits, as
bench/bench_throughput.py does. Rounds alternate between no dashboard and one dashboard's live stream (a
subprocess reading `/__admin/ui/stream` as a browser's EventSource would), so a busy machine slows both
alike; the median round of each is compared (goal: at least 0.9). Render: in-process, the journal filled to
10,000 entries (a mix of accepted, refused and polled exchanges), `GET /__admin/ui/` timed end to end through
the app, unfiltered (the newest 100 rows), and with a text filter and a verdict filter that match nothing (every
entry searched; a verdict judges every entry, the worst case), the first render and the median of the rest
(judgments are kept for reuse). Goal: under 100 ms. Bounded: about 40 s, loopback only.

    .venv/bin/python bench/bench_dashboard.py
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time

import httpx
from _load import BODY, fake, serving, submit_request, throughput

from mockserver import Config, VirtualClock, create_app

CONNECTIONS = 64
ROUNDS = 5
SECONDS = 2.5
WARM_UP = 0.5
ENTRIES = 10_000
RENDERS = 20

# A browser's EventSource, in a process of its own: it reads every event and prints one line once connected.
_READER = """
import sys, httpx
with httpx.stream("GET", sys.argv[1] + "/__admin/ui/stream", timeout=None) as live:
    for line in live.iter_lines():
        if line.startswith("event: hello"):
            print("connected", flush=True)
"""


def _with_dashboard(url: str) -> float:
    reader = subprocess.Popen([sys.executable, "-c", _READER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout is not None
        if reader.stdout.readline().strip() != "connected":
            raise RuntimeError("the dashboard stream did not open")
        return throughput(url, submit_request("127.0.0.1"), connections=CONNECTIONS, seconds=SECONDS)
    finally:
        reader.terminate()
        reader.wait(timeout=10)


def throughput_with_and_without() -> None:
    with serving(*fake("--latency", "none")) as url:
        throughput(url, submit_request("127.0.0.1"), connections=CONNECTIONS, seconds=WARM_UP)
        rates: dict[str, list[float]] = {"none": [], "one": []}
        for _ in range(ROUNDS):
            rates["none"].append(throughput(url, submit_request("127.0.0.1"), connections=CONNECTIONS, seconds=SECONDS))
            rates["one"].append(_with_dashboard(url))
    print(f"sync submits, {CONNECTIONS} keep-alive connections, loopback, one uvicorn worker")
    for name, values in rates.items():
        rounds = " ".join(f"{value:,.0f}" for value in values)
        print(f"  dashboards {name:4}: median {statistics.median(values):7,.0f} req/s  (rounds: {rounds})")
    ratio = statistics.median(rates["one"]) / statistics.median(rates["none"])
    print(f"  one dashboard / none: {ratio:.2f} (goal >= 0.9)")


async def _render_times() -> dict[str, list[float]]:
    app = create_app(Config(seed=1, journal_bytes=256 << 20), clock=VirtualClock())
    transport = httpx.ASGITransport(app=app)
    auth = {"Authorization": "Bearer bench"}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        examples = 0
        while examples < ENTRIES:
            await client.post("/getImagetoImage", json=BODY, headers=auth)
            await client.post("/getImagetoImage", json={**BODY, "batch": 99}, headers=auth)
            await client.post("/getImage", json={"id": "no-such-task"}, headers=auth)
            await client.post("/getImagetoImage", json={**BODY, "celery": True}, headers=auth)
            examples += 4
        journal = app.state.backend.namespaces.get("default").journal
        assert len(journal) == ENTRIES, len(journal)
        times: dict[str, list[float]] = {
            "newest 100 rows": [],
            "text matching nothing": [],
            "verdict matching nothing": [],
        }
        for name, query in zip(times, ("", "?q=matches-nothing", "?verdict=failed"), strict=True):
            for _ in range(RENDERS):
                started = time.perf_counter()
                answer = await client.get("/__admin/ui/" + query)
                times[name].append(time.perf_counter() - started)
                assert answer.status_code == 200
    return times


def render_time() -> None:
    times = asyncio.run(_render_times())
    print(f"journal page, {ENTRIES:,} entries in the namespace, in-process, {RENDERS} renders each")
    for name, values in times.items():
        # The first render judges what it reads; later ones reuse those judgments (mockserver/dashboard/rows.py).
        first, again = values[0] * 1000, statistics.median(values[1:]) * 1000
        print(
            f"  {name:24}: first {first:6.1f} ms, again: median {again:6.1f} ms, max {max(values[1:]) * 1000:6.1f} ms"
        )


def main() -> None:
    throughput_with_and_without()
    render_time()


if __name__ == "__main__":
    main()
