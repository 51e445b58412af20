"""Reading another tool's recording at the size limits: a 64 MiB HAR and a 16 MiB VCR.py cassette (YAML).

A HAR or VCR file is one document, parsed whole, so `MAX_DOCUMENT_BYTES` and `MAX_YAML_BYTES`
(contracts/cassette/reading.py) bound the memory a read takes. Each file is made of one real-looking session (a
queued submit, its polls, a sync submit, a refusal) repeated until the file reaches the limit; each is read in
a fresh interpreter, which reports the seconds taken and its peak RSS above what it held before reading.

    .venv/bin/python bench/bench_recording_read.py
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from contracts.cassette.reading import MAX_DOCUMENT_BYTES, MAX_YAML_BYTES

BODY = {"app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "image": "https://example.com/face.jpg", "prompt": "portrait",
        "batch": 1, "height": 1024, "width": 1024, "num_inference_steps": 30, "guidance_scale": 7.5,
        "strength": 1}  # fmt: skip
ENVELOPE = {"time_required": {"startup_time": 1.2, "runtime": 4.3}, "error": None, "error_data": None, "input": BODY,
            "output": {"result": ["https://cdn.example/a.jpg"], "Has_NSFW_Content": [False],
                       "low_res_urls": ["https://cdn.example/low_res/a.webp"]},
            "app_id": BODY["app_id"], "task_id": None, "status": "SUCCESS"}  # fmt: skip
URL = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"


def _session(n: int) -> list[tuple[str, dict[str, object], int, dict[str, object]]]:
    task = f"00000000-0000-4000-8000-{n:012d}"
    queued = {**ENVELOPE, "status": "PENDING", "task_id": task, "output": {}, "time_required": {}}
    return [
        ("/getImagetoImage", {**BODY, "celery": True}, 200, queued),
        ("/getImage", {"id": task}, 200, {**queued, "task_id": task}),
        ("/getImage", {"id": task}, 200, ENVELOPE),
        ("/getImagetoImage", BODY, 200, ENVELOPE),
        ("/getImagetoImage", {**BODY, "batch": 9}, 422, {**ENVELOPE, "status": "FAILED", "output": {}}),
    ]


def _har_entry(n: int, path: str, body: object, status: int, answer: object) -> dict[str, object]:
    return {
        "startedDateTime": f"2026-05-01T10:{(n // 60) % 60:02d}:{n % 60:02d}.000Z", "time": 41.5,
        "request": {"method": "POST", "url": URL + path, "httpVersion": "HTTP/1.1", "cookies": [], "queryString": [],
                    "headers": [{"name": "Authorization", "value": "Bearer sk-bench"},
                                {"name": "Content-Type", "value": "application/json"}],
                    "postData": {"mimeType": "application/json", "text": json.dumps(body)},
                    "headersSize": -1, "bodySize": -1},
        "response": {"status": status, "statusText": "", "httpVersion": "HTTP/1.1", "cookies": [],
                     "headers": [{"name": "content-type", "value": "application/json"}], "redirectURL": "",
                     "content": {"size": -1, "mimeType": "application/json", "text": json.dumps(answer)},
                     "headersSize": -1, "bodySize": -1},
        "cache": {}, "timings": {"send": 0, "wait": 41.5, "receive": 0},
    }  # fmt: skip


def _vcr_interaction(path: str, body: object, status: int, answer: object) -> dict[str, object]:
    return {
        "request": {"method": "POST", "uri": URL + path, "body": json.dumps(body),
                    "headers": {"authorization": ["Bearer sk-bench"], "content-type": ["application/json"]}},
        "response": {"status": {"code": status, "message": "OK"}, "body": {"string": json.dumps(answer)},
                     "headers": {"content-type": ["application/json"]}},
    }  # fmt: skip


def make_har(path: Path) -> int:
    entries, size, n = [], 0, 0
    while size < MAX_DOCUMENT_BYTES * 0.98:
        for exchange in _session(n):
            entry = _har_entry(n, *exchange)
            entries.append(entry)
            size += len(json.dumps(entry)) + 2
        n += 1
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "bench", "version": "1"},
                                        "entries": entries}}))  # fmt: skip
    return len(entries)


def make_vcr(path: Path) -> int:
    one = yaml.safe_dump([_vcr_interaction(*exchange) for exchange in _session(0)])
    repeats = int(MAX_YAML_BYTES * 0.98 // len(one))
    # The same session each time: YAML aliases would be refused, so each copy is written out in full.
    path.write_text("interactions:\n" + one * repeats + "version: 1\n")
    return repeats * 5


READ = """
import resource, sys, time
from contracts.cassette.reading import read_cassette
import yaml, orjson  # loaded before the baseline, as a replaying fake has them
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
cassette = read_cassette(sys.argv[1], max_seconds=3600)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(len(cassette.exchanges), round(seconds, 2), (peak - before) // 1024)
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, make in (("HAR", make_har), ("VCR.py YAML", make_vcr)):
            path = Path(folder) / f"big.{name[:3].lower()}"
            entries = make(path)
            ran = subprocess.run([sys.executable, "-c", READ, str(path)], capture_output=True, text=True, check=True)
            exchanges, seconds, peak = ran.stdout.split()
            print(f"{name}: {path.stat().st_size / (1 << 20):.1f} MiB, {entries} interactions -> {exchanges} exchanges "
                  f"in {seconds} s, peak RSS +{peak} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
