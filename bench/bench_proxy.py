"""The recording proxy: sync submits per second through it against straight to the fake, and the latency it adds.

Subprocesses on loopback, each under uvicorn with httptools and uvloop: the fake (`serve`), and the proxy in
front of it (`record`, writing its cassette to a temporary folder). Throughput: 64 keep-alive connections each
send a sync `POST /getImagetoImage` again as soon as the last answer is whole, in rounds that alternate between
the fake and the proxy, so a machine busy with something else slows both alike; the median rounds are compared.
Twice: with the fake at `--latency none` (every microsecond is the proxy's own work, the worst case) and at
`fixed:200ms` (a fast generation; production takes seconds). Latency: 1,000 requests one after another on one
connection, each way, against the `none` fake; the proxy's added latency is the difference of the medians.
Bounded: 2 x 5 rounds of 2 x 2.5 s, then 2 x 1,000 requests, about 70 s in all, loopback only.

    .venv/bin/python bench/bench_proxy.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from _load import fake, round_trips, serving, submit_request, throughput

CONNECTIONS = 64
ROUNDS = 5
SECONDS = 2.5
WARM_UP = 0.5
SEQUENTIAL = 1_000
REQUEST = submit_request("127.0.0.1")


def record(upstream: str, folder: str) -> list[str]:
    """The command line of `qolaba-mock record` in front of `upstream`, on a free loopback port."""
    cassette = Path(folder) / f"{upstream.rsplit(':', 1)[1]}.jsonl"
    return ["-m", "mockserver.cli", "record", "--upstream", upstream, "--port", "0", "--out", str(cassette)]


def rates(urls: dict[str, str]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {name: [] for name in urls}
    for url in urls.values():
        throughput(url, REQUEST, connections=CONNECTIONS, seconds=WARM_UP)
    for _ in range(ROUNDS):
        for name, url in urls.items():
            found[name].append(throughput(url, REQUEST, connections=CONNECTIONS, seconds=SECONDS))
    return found


def report(title: str, found: dict[str, list[float]]) -> None:
    print(title)
    for name, values in found.items():
        rounds = " ".join(f"{value:,.0f}" for value in values)
        print(f"  {name:6}: median {statistics.median(values):7,.0f} req/s  (rounds: {rounds})")
    print(f"  proxy / direct: {statistics.median(found['proxy']) / statistics.median(found['direct']):.2f}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for latency in ("none", "fixed:200ms"):
            with serving(*fake("--latency", latency)) as direct, serving(*record(direct, folder)) as proxy:
                urls = {"direct": direct, "proxy": proxy}
                report(f"sync submits, fake at --latency {latency}, {CONNECTIONS} keep-alive connections", rates(urls))
                if latency == "none":
                    latencies = {name: round_trips(url, REQUEST, count=SEQUENTIAL) for name, url in urls.items()}
        exchanges = sum(path.read_bytes().count(b"\n") - 1 for path in Path(folder).iterdir())
    print(f"one request at a time, {SEQUENTIAL:,} each way, fake at --latency none")
    p50 = {name: statistics.median(values) * 1e3 for name, values in latencies.items()}
    for name, value in p50.items():
        print(f"  {name:6}: p50 {value:6.2f} ms")
    print(f"  added by the proxy: p50 {p50['proxy'] - p50['direct']:.2f} ms  ({exchanges:,} exchanges recorded in all)")
    if exchanges < SEQUENTIAL:
        sys.exit("the cassettes hold fewer exchanges than were sent through the proxy")


if __name__ == "__main__":
    main()
