"""Latency accuracy: 500 requests in flight against a live fake with `fixed:200ms`, p50/p99 vs configured.

Runs `qolaba-mock serve` on a free loopback port as a subprocess, once with `fixed:200ms` and once with
`none` (the server's own overhead, measured in the same run), then prints both. Bounded: 500 requests
per run, 60 s timeout each, loopback only.

    .venv/bin/python bench/bench_latency.py
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time

import httpx

REQUESTS = 500
CONFIGURED = 0.200
BODY = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
    "image": "https://example.com/face.jpg",
    "prompt": "bench",
    "batch": 1,
    "height": 512,
    "width": 512,
    "num_inference_steps": 10,
    "guidance_scale": 7.5,
    "strength": 1,
}


async def measure(url: str) -> list[float]:
    """Open every connection first, then send all requests at once; time each from send to full response.

    A raw HTTP/1.1 client keeps the measurement about the server: httpx's pool itself costs more than
    the fake at 500 concurrent connections.
    """
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(BODY).encode()
    request = (
        f"POST /getImagetoImage HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer bench\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    connections = [await asyncio.open_connection(host, int(port)) for _ in range(REQUESTS)]
    start = asyncio.Event()

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
        await start.wait()
        started = time.perf_counter()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:40]
        length = int(
            next(line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")).split(b":")[1]
        )
        await reader.readexactly(length)
        elapsed = time.perf_counter() - started
        writer.close()
        return elapsed

    tasks = [asyncio.create_task(one(reader, writer)) for reader, writer in connections]
    await asyncio.sleep(0.5)  # let the server accept every connection before the burst
    start.set()
    return list(await asyncio.wait_for(asyncio.gather(*tasks), timeout=60))


def server_side(url: str) -> list[float]:
    """Arrival-to-response durations the fake itself recorded in its journal."""
    params = {"path": "/getImagetoImage", "limit": 1000}
    entries = httpx.get(url + "/__admin/journal", params=params).json()["entries"]
    return [e["finished_at"] - e["started_at"] for e in entries]


def run(latency: str) -> tuple[list[float], list[float]]:
    command = [sys.executable, "-m", "mockserver.cli", "serve", "--port", "0", "--latency", latency]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        assert server.stdout is not None
        url = server.stdout.readline().rsplit(" ", 1)[1].strip()
        try:
            return asyncio.run(measure(url)), server_side(url)
        finally:
            server.terminate()
            server.wait(timeout=10)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    baseline, _ = run("none")
    fixed, recorded = run(f"fixed:{int(CONFIGURED * 1000)}ms")
    print(f"{REQUESTS} concurrent sync requests, loopback, one uvicorn worker")
    for label, values in [
        ("client, latency none", baseline),
        ("client, fixed:200ms", fixed),
        ("server, fixed:200ms", recorded),
    ]:
        p50, p99 = percentile(values, 50), percentile(values, 99)
        error = (p50 - CONFIGURED) / CONFIGURED
        print(f"  {label:22}: p50 {p50 * 1000:7.1f} ms  p99 {p99 * 1000:7.1f} ms  p50 vs 200 ms {error:+6.1%}")
    corrected = percentile(fixed, 50) - percentile(baseline, 50)
    error = (corrected - CONFIGURED) / CONFIGURED
    print(f"  client p50 less the same run's no-latency p50: {corrected * 1000:.1f} ms ({error:+.1%})")


if __name__ == "__main__":
    main()
