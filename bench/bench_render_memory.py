"""Render memory: a live fake's RSS while 64 clients at once fetch the largest output images it makes.

For each fidelity profile, a fresh `qolaba-mock serve --latency none --fidelity P` on a free loopback port:

1. two sync submits (two prompts) of batch 8 at the largest size the profile accepts (20,480 px a side, else
   2,048, else 1,536: the first one not refused);
2. 64 parallel GETs: each of the 32 URLs they return (16 results, 16 previews) fetched twice at once. A 503
   is retried after its `Retry-After`, at most 30 times;
3. the server's RSS (VmRSS from /proc/<pid>/status) sampled every 50 ms throughout: before, peak, and 3 s
   after the last answer.

Every result must be a JPEG of the size asked for (each side floored to a multiple of 8), read from its header.

Bounded: 2 submits and at most 64 x 30 GETs per profile, every wait has a timeout, loopback only, each
server is stopped (killed if need be) even on error. Linux only (/proc). About 90 s on 2 busy cores.

    .venv/bin/python bench/bench_render_memory.py [--profiles production] [--parallel 16] [--root DIR]

`--parallel 16` fetches the 16 results once each (the issue's reproduction) instead of 64 GETs.
`--root DIR` serves the fake from another checkout (e.g. the release before the render budget, unpacked with
`git archive`), to measure "before" on the same machine.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench_hostile import BODY, HEADERS, HOST, TIMEOUT, Row, Server, serving, statuses, table
from PIL import Image

from mockserver.behaviour.fidelity.profiles import profile_names

SIDES = (20480, 2048, 1536)
PARALLEL = 64
MAX_ATTEMPTS = 30
SAMPLE_EVERY = 0.05
AFTER = 3.0
# A 20,480 px square is 419 million pixels: past Pillow's bomb guard, but only its header is read here.
Image.MAX_IMAGE_PIXELS = None


class RssSampler:
    """The server's RSS every SAMPLE_EVERY seconds, on a thread, until stopped."""

    def __init__(self, server: Server) -> None:
        self.server, self.peak, self._stop = server, server.rss_mib(), threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            try:
                self.peak = max(self.peak, self.server.rss_mib())
            except (OSError, RuntimeError):
                return  # the server exited

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak


def submit(server: Server, prompt: str) -> tuple[int, dict[str, Any]]:
    """A batch-8 sync submit at the largest side the profile accepts: (side, answer)."""
    for side in SIDES:
        body = {**BODY, "prompt": prompt, "batch": 8, "height": side, "width": side}
        connection = server.connection()
        try:
            connection.request("POST", "/getImagetoImage", json.dumps(body).encode(), HEADERS)
            response = connection.getresponse()
            answer = json.loads(response.read())
        finally:
            connection.close()
        if response.status == 200 and answer.get("status") == "SUCCESS":
            return side, answer
    raise RuntimeError(f"no size was accepted: {answer}")


Fetched = tuple[str, int, int, bytes]


def fetch(server: Server, url: str, results: list[Fetched]) -> None:
    """GET `url` until it is not a 503 (honouring Retry-After); append (url, status, attempts, body)."""
    path = urlsplit(url).path
    for attempt in range(1, MAX_ATTEMPTS + 1):
        connection = http.client.HTTPConnection(HOST, server.port, timeout=TIMEOUT * 4)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
            retry_after = response.getheader("Retry-After")
        except OSError as exc:
            results.append((url, 0, attempt, repr(exc).encode()))
            return
        finally:
            connection.close()
        if response.status != 503 or attempt == MAX_ATTEMPTS:
            results.append((url, response.status, attempt, body))
            return
        time.sleep(float(retry_after or 1))


def profile_rows(profile: str, root: Path, parallel: int) -> list[Row]:
    with serving("--fidelity", profile, root=root) as server:
        side_one, first = submit(server, "p1")
        _, second = submit(server, "p2")
        results = first["output"]["result"] + second["output"]["result"]
        previews = first["output"]["low_res_urls"] + second["output"]["low_res_urls"]
        before = server.rss_mib()
        sampler = RssSampler(server)
        fetched: list[Fetched] = []
        every = [*results, *previews]
        # 64: each URL twice; 16: the 16 results once (the reproduction).
        urls = every * (parallel // len(every)) if parallel >= len(every) else results[:parallel]
        began = time.perf_counter()
        clients = [threading.Thread(target=fetch, args=(server, url, fetched)) for url in urls]
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=TIMEOUT * MAX_ATTEMPTS)
        took = time.perf_counter() - began
        time.sleep(AFTER)
        after = server.rss_mib()
        peak = sampler.stop()
    expected = side_one - side_one % 8
    wanted = [body for url, status, _, body in fetched if url in results]
    images = [Image.open(io.BytesIO(body)) for body in wanted if body[:3] == b"\xff\xd8\xff"]
    right = [image for image in images if image.format == "JPEG" and image.size == (expected, expected)]
    retried = sum(1 for _, _, attempts, _ in fetched if attempts > 1)
    label = f"{profile} {side_one}²"
    return [
        (label, "GETs (answers)", f"{len(urls)} at once: {statuses(Counter(s for _, s, _, _ in fetched))}"),
        (label, "503 Retry-After first, then served", f"{retried} of {len(fetched)}; all done in {took:.1f} s"),
        (label, "results of the size asked for", f"{len(right)} of {len(wanted)} JPEGs {expected}²"),
        (label, "RSS before / peak / 3 s after", f"{before:.0f} / {peak:.0f} / {after:.0f} MiB"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    # The fake under test runs in its own process: the registry loaded here adds nothing to the RSS measured.
    names = profile_names()
    parser.add_argument("--profiles", nargs="+", default=list(names), choices=names)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--parallel", type=int, default=PARALLEL, help="GETs at once, a multiple of 32 or 16")
    args = parser.parse_args()
    if not Path("/proc/self/status").exists():
        print("bench_render_memory: needs Linux /proc", file=sys.stderr)
        return 2
    rows: list[Row] = []
    began = time.perf_counter()
    for profile in args.profiles:
        print(f"running {profile} ...", file=sys.stderr, flush=True)
        try:
            rows += profile_rows(profile, args.root, args.parallel)
        except Exception as exc:
            rows.append((profile, "scenario failed", repr(exc)[:200]))
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, loopback, "
        f"one uvicorn worker, --latency none, fake from {args.root}; whole run {time.perf_counter() - began:.0f} s"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
