"""Loading a cassette for replay: 100,000 exchanges read, every value checked, indexed for matching.

The cassette is written with the recorder's own writer: a quarter sync submits answered SUCCESS, a quarter
queued submits, and for each queued one a PENDING poll and a SUCCESS poll (about 1 KB a line, as a recording
of production holds). Measured: `read_cassette` alone, and `create_app(Config(replay=...))`, which is what
`serve --replay` does before it announces its URL; each the median of 3, with RSS before and after the first
load. The references parse each line with the standard library and with orjson and check nothing (with the
cyclic collector on, as a plain loop runs).
In-process, no server; about a minute in all.

    .venv/bin/python bench/bench_replay_load.py
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from contracts.cassette.jsonl import Exchange, Message
from contracts.cassette.jsonl_writer import CassetteWriter
from contracts.cassette.reading import read_cassette
from mockserver import Config, create_app

EXCHANGES = 100_000
ROUNDS = 3
BODY = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
    "image": "https://example.com/face.jpg",
    "batch": 1,
    "height": 1024,
    "width": 1024,
    "num_inference_steps": 30,
    "guidance_scale": 7.5,
    "strength": 1,
}
JSON = {"content-type": "application/json"}


def answer(status: str, task_id: str | None, n: int) -> dict[str, Any]:
    urls = [f"https://cdn.example.com/outputs/{n:08d}_{i}.webp" for i in range(2)]
    output = {"result": urls[:1], "Has_NSFW_Content": [False], "low_res_urls": urls[1:]} if status == "SUCCESS" else {}
    return {
        "time_required": {"startup_time": 0.4, "runtime": 11.2} if output else {},
        "error": None,
        "error_data": None,
        "input": {"app_id": "IPAdapter_face_consistent_modal", "parameters": {**BODY, "prompt": f"p{n}"}},
        "output": output,
        "task_id": task_id,
        "status": status,
    }


def write_cassette(path: Path) -> None:
    writer = CassetteWriter(path, "https://qolaba-server-b2b.up.railway.app/api/v1/studio").open()
    seq = 0

    def write(path: str, request: dict[str, Any], response: dict[str, Any], task: dict[str, Any] | None) -> int:
        nonlocal seq
        seq += 1
        sent = Message(json=request, is_json=True, content_type="application/json")
        got = Message(json=response, is_json=True)
        writer.write(Exchange(seq, seq * 0.5, "POST", path, "bearer", "t1", sent, 200, JSON, got, 0.4, task))
        return seq

    for n in range(EXCHANGES // 4):
        write("/getImagetoImage", {**BODY, "prompt": f"p{n}"}, answer("SUCCESS", None, n), None)
        task_id = f"{n:08d}-9c1e-4f4a-8d3e-5b6a7c8d9e0f"
        submit = write(
            "/getImagetoImage", {**BODY, "prompt": f"q{n}", "celery": True}, answer("PENDING", task_id, n), None
        )
        write("/getImage", {"id": task_id}, answer("PENDING", task_id, n), {"submit": submit, "offset": 2.0})
        write("/getImage", {"id": task_id}, answer("SUCCESS", task_id, n), {"submit": submit, "offset": 21.5})
    writer.close()


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(action: Callable[[], object]) -> tuple[list[float], list[float]]:
    """Wall seconds and this process's CPU seconds of each round (on a busy machine the two part ways)."""
    walls, cpus = [], []
    for _ in range(ROUNDS):
        wall, cpu = time.perf_counter(), time.process_time()
        action()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "recorded.jsonl"
        write_cassette(path)
        size = path.stat().st_size
        print(f"{EXCHANGES:,} exchanges, {size / 2**20:.1f} MiB ({size / EXCHANGES:,.0f} B a line)")
        before = rss_mib()
        kept = read_cassette(path, max_seconds=3600)
        print(f"  RSS {before:.0f} -> {rss_mib():.0f} MiB with the cassette read ({len(kept.exchanges):,} exchanges)")
        del kept
        lines = path.read_bytes().splitlines()
        rows = {
            "read_cassette (every value checked)": timed(lambda: read_cassette(path, max_seconds=3600)),
            "create_app(Config(replay=...)), as serve": timed(
                lambda: create_app(Config(replay=str(path), max_latency=3600.0 + _next()))
            ),
            "reference: json.loads per line": timed(lambda: [json.loads(line) for line in lines]),
            "reference: orjson.loads per line": timed(lambda: [orjson.loads(line) for line in lines]),
        }
    for name, (walls, cpus) in rows.items():
        rounds = " ".join(f"{wall:.2f}" for wall in walls)
        print(f"  {name:42} median {statistics.median(walls):5.2f} s, CPU {statistics.median(cpus):5.2f} s  ({rounds})")


_seeds = iter(range(1, 1_000))


def _next() -> int:
    # A different bound each round: the config's one-entry cache would otherwise hand back the cassette read before.
    return next(_seeds)


if __name__ == "__main__":
    main()
