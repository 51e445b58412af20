"""Hostile clients: what a live fake's memory, file descriptors and shutdown do when clients misbehave.

Runs `qolaba-mock serve` on a free loopback port as a subprocess, a fresh one per scenario so figures do
not mix, and reads the server's RSS (VmRSS) and open file descriptors from /proc/<pid>:

1. journal flood: 300 submits of a 63 KB body of 21,000 empty arrays (refused, 422), then the whole
   journal read back page by page;
2. namespaces: 20,000 status calls, each in a namespace of its own;
3. queued tasks: 20,000 queued submits in one namespace, first 500 vs last 500 submit latency;
4. abandoned held requests: 300 connections each hold a sync submit, then all leave at once;
5. shutdown: SIGTERM, then SIGINT, with a hung request and a held one in flight.

Bounded: about 41,000 requests in all, every wait has a timeout, loopback only, every server it starts
is stopped (killed if need be) even on error. Linux only (/proc). About 40 s on 2 cores.

    .venv/bin/python bench/bench_hostile.py
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
HEADERS = {"Authorization": "Bearer sk-test", "Content-Type": "application/json"}
BODY: dict[str, Any] = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
    "image": "https://example.com/face.jpg",
    "prompt": "a portrait",
    "batch": 1,
    "height": 512,
    "width": 512,
    "num_inference_steps": 30,
    "guidance_scale": 7.5,
    "strength": 1,
}
SUBMIT = json.dumps(BODY).encode()
QUEUED = json.dumps({**BODY, "celery": True}).encode()
TIMEOUT = 30.0  # any one client call
READY_TIMEOUT = 10.0

FLOOD_REQUESTS = 300
FLOOD_BODY = b'{"x": [' + b",".join([b"[]"] * 21_000) + b"]}"  # 63 KB of empty arrays
JOURNAL_PAGES_MAX = 100
NAMESPACES = 20_000
NAMESPACE_THREADS = 4
TASKS = 20_000
TASK_WINDOW = 500
HELD = 300
HELD_LATENCY = "fixed:1000000s"
HELD_SETTLE = 1.0
HELD_AFTER = 5.0
SHUTDOWN_SETTLE = 0.5
EXIT_TIMEOUT = 15.0

Row = tuple[str, str, str]


class Server:
    """One `qolaba-mock serve` subprocess; its stdout and stderr are drained by threads so it never blocks."""

    def __init__(self, *flags: str, root: Path = ROOT) -> None:
        # `python -m` imports the fake from `root` (another checkout, for a "before" figure).
        command = [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--port", "0"]
        command += ["--latency", "none", *flags]
        self.process = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pid = self.process.pid
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._readers: list[threading.Thread] = []
        try:
            self.url = self._announced_url()
            self.port = int(self.url.rsplit(":", 1)[1])
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _announced_url(self) -> str:
        """The URL from the first stdout line, read by a thread so a server that never prints cannot block us."""
        assert self.process.stdout is not None and self.process.stderr is not None
        announced = threading.Event()
        self._drain(self.process.stderr, self.stderr)
        self._drain(self.process.stdout, self.stdout, announced)
        announced.wait(READY_TIMEOUT)
        first = self.stdout[0] if self.stdout else ""
        if not first.startswith("qolaba-mock serving on http://"):
            raise RuntimeError(f"server did not start: {first!r} {''.join(self.stderr)[-2000:]}")
        return first.rsplit(" ", 1)[1].strip()

    def _wait_ready(self) -> None:
        # The URL is printed once the socket listens, before uvicorn runs: wait for a first answer, so the
        # "before" figures are of a server that is up.
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            connection = self.connection()
            try:
                if call(connection, "GET", "/__admin/health", None, {})[0] == 200:
                    return
            except OSError:
                pass
            finally:
                connection.close()
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"server not ready: {''.join(self.stderr)[-2000:]}")
            time.sleep(0.05)

    def _drain(self, stream: Any, sink: list[str], first_line: threading.Event | None = None) -> None:
        def read() -> None:
            for line in stream:
                sink.append(line)
                if first_line is not None:
                    first_line.set()
            if first_line is not None:
                first_line.set()  # EOF: the server exited without a line

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        self._readers.append(reader)

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)

    def stop(self) -> None:
        """Terminate, then kill if it does not go within 10 s; wait for the output readers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)

    def stderr_text(self) -> str:
        """What the server wrote to stderr: all of it once the server has exited."""
        if self.process.poll() is not None:
            for reader in self._readers:
                reader.join(timeout=5)
        return "".join(self.stderr)


@contextmanager
def serving(*flags: str, root: Path = ROOT) -> Iterator[Server]:
    server = Server(*flags, root=root)
    try:
        yield server
    finally:
        server.stop()


def call(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    return response.status, response.read()


def statuses(counts: Counter[int]) -> str:
    return ", ".join(f"{status} x{n}" for status, n in sorted(counts.items()))


def mib(value: float) -> str:
    return f"{value:.1f} MiB"


def stderr_row(name: str, server: Server) -> Row:
    """Whether the server printed a Traceback, and its last stderr line; call it once the server has stopped."""
    text = server.stderr_text().strip()
    last = text.splitlines()[-1][:80] if text else ""
    if "Traceback" in text:
        return (name, "server stderr", f"Traceback! last line: {last}")
    return (name, "server stderr", f"no Traceback; last line: {last}" if text else "empty")


def admin_get(server: Server, path: str, namespace: str | None = None) -> Any:
    connection = server.connection()
    try:
        status, raw = call(connection, "GET", path, None, {"X-Mock-Namespace": namespace} if namespace else {})
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"GET {path} answered {status}: {raw[:200]!r}")
    return json.loads(raw)


def journal_flood() -> list[Row]:
    name = "1 journal flood"
    with serving() as server:
        before = server.rss_mib()
        connection = server.connection()
        counts: Counter[int] = Counter()
        started = time.perf_counter()
        for _ in range(FLOOD_REQUESTS):
            status, _ = call(connection, "POST", "/getImagetoImage", FLOOD_BODY, HEADERS)
            counts[status] += 1
        per_submit = (time.perf_counter() - started) / FLOOD_REQUESTS
        after = server.rss_mib()
        started = time.perf_counter()
        after_seq, entries, pages, received, more = 0, 0, 0, 0, True
        while more and pages < JOURNAL_PAGES_MAX:
            status, raw = call(connection, "GET", f"/__admin/journal?limit=1000&after={after_seq}", None, {})
            if status != 200:
                raise RuntimeError(f"journal page answered {status}: {raw[:200]!r}")
            page = json.loads(raw)
            entries += len(page["entries"])
            after_seq, more, pages, received = page["next_after"], page["more"], pages + 1, received + len(raw)
        read_seconds = time.perf_counter() - started
        after_read = server.rss_mib()
        connection.close()
        rows = [
            (name, f"{FLOOD_REQUESTS} submits of {len(FLOOD_BODY) / 1000:.0f} KB, one connection", statuses(counts)),
            (name, "mean time per submit", f"{per_submit * 1000:.1f} ms"),
            (name, "RSS before", mib(before)),
            (name, "RSS after the submits", mib(after)),
            (name, "read journal back", f"{read_seconds * 1000:.0f} ms, {pages} page(s), {received / 1e6:.1f} MB"),
            (name, "journal entries kept", f"{entries} of {FLOOD_REQUESTS}"),
            (name, "RSS after reading", mib(after_read)),
        ]
    return [*rows, stderr_row(name, server)]


def namespaces() -> list[Row]:
    name = "2 namespaces"
    with serving() as server:
        before = server.rss_mib()
        counts: Counter[int] = Counter()
        errors: list[BaseException] = []
        lock = threading.Lock()
        body = json.dumps({"id": "x"}).encode()

        def worker(first: int) -> None:
            connection = server.connection()
            mine: Counter[int] = Counter()
            try:
                for index in range(first, NAMESPACES, NAMESPACE_THREADS):
                    headers = {**HEADERS, "X-Mock-Namespace": f"n{index}"}
                    status, _ = call(connection, "POST", "/getImage", body, headers)
                    mine[status] += 1
            except Exception as exc:
                errors.append(exc)
            finally:
                connection.close()
                with lock:
                    counts.update(mine)

        started = time.perf_counter()
        workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(NAMESPACE_THREADS)]
        for thread in workers:
            thread.start()
        for thread in workers:
            thread.join(timeout=120)
        elapsed = time.perf_counter() - started
        after = server.rss_mib()
        kept = len(admin_get(server, "/__admin/health")["namespaces"])
        answers = statuses(counts) + (f"; client error: {errors[0]!r}" if errors else "")
        rows = [
            (name, f"{NAMESPACES} status calls, one namespace each", answers),
            (name, "elapsed", f"{elapsed:.1f} s on {NAMESPACE_THREADS} keep-alive connections"),
            (name, "RSS before", mib(before)),
            (name, "RSS after", mib(after)),
            (name, "namespaces kept", str(kept)),
        ]
    return [*rows, stderr_row(name, server)]


def queued_tasks() -> list[Row]:
    name = "3 queued tasks"
    with serving() as server:
        before = server.rss_mib()
        connection = server.connection()
        headers = {**HEADERS, "X-Mock-Namespace": "bench"}
        counts: Counter[int] = Counter()
        durations: list[float] = []
        for _ in range(TASKS):
            started = time.perf_counter()
            status, _ = call(connection, "POST", "/getImagetoImage", QUEUED, headers)
            durations.append(time.perf_counter() - started)
            counts[status] += 1
        connection.close()
        after = server.rss_mib()
        kept = len(admin_get(server, "/__admin/tasks", "bench")["tasks"])
        first = statistics.fmean(durations[:TASK_WINDOW]) * 1000
        last = statistics.fmean(durations[-TASK_WINDOW:]) * 1000
        rows = [
            (name, f"{TASKS} queued submits, one connection", statuses(counts)),
            (name, "elapsed", f"{sum(durations):.1f} s"),
            (name, "RSS before", mib(before)),
            (name, "RSS after", mib(after)),
            (name, "tasks kept", str(kept)),
            (name, f"mean submit, first {TASK_WINDOW}", f"{first:.2f} ms"),
            (name, f"mean submit, last {TASK_WINDOW}", f"{last:.2f} ms ({last / first - 1:+.0%})"),
        ]
    return [*rows, stderr_row(name, server)]


def raw_submit(headers: dict[str, str], body: bytes = SUBMIT) -> bytes:
    head = f"POST /getImagetoImage HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{key}: {value}\r\n" for key, value in headers.items())
    return (head + "\r\n").encode() + body


def abandoned_held() -> list[Row]:
    name = "4 abandoned held"
    with serving("--max-latency", "1000000") as server:
        fds_before, rss_before = server.fds(), server.rss_mib()
        request = raw_submit({**HEADERS, "X-Mock-Latency": HELD_LATENCY})
        clients: list[socket.socket] = []
        try:
            for _ in range(HELD):
                client = socket.create_connection((HOST, server.port), timeout=TIMEOUT)
                clients.append(client)
                client.sendall(request)
            time.sleep(HELD_SETTLE)
            fds_open, rss_open = server.fds(), server.rss_mib()
            answered = 0
            for client in clients:
                client.setblocking(False)
                try:
                    answered += bool(client.recv(1, socket.MSG_PEEK))
                except BlockingIOError:
                    pass
        finally:
            for client in clients:
                client.close()
        time.sleep(HELD_AFTER)
        fds_after, rss_after = server.fds(), server.rss_mib()
        entries = admin_get(server, "/__admin/journal?limit=1000")["entries"]
        gone = sum(1 for e in entries if e["path"] == "/getImagetoImage" and e["status"] is None)
        rows = [
            (name, f"{HELD} connections, sync submit {HELD_LATENCY}", f"{answered} answered while held"),
            (name, "server fds before clients", str(fds_before)),
            (name, f"server fds, clients open ({HELD_SETTLE:.0f} s)", str(fds_open)),
            (name, f"server fds, {HELD_AFTER:.0f} s after clients left", str(fds_after)),
            (name, "journal: held calls ended as client gone", f"{gone} of {HELD}"),
            (name, "RSS before", mib(rss_before)),
            (name, "RSS with clients open", mib(rss_open)),
            (name, f"RSS {HELD_AFTER:.0f} s after clients left", mib(rss_after)),
        ]
    return [*rows, stderr_row(name, server)]


def shutdown(sig: signal.Signals) -> list[Row]:
    name = f"5 shutdown {sig.name}"
    outcomes: dict[str, str] = {}

    def client(label: str, extra: dict[str, str], port: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=EXIT_TIMEOUT + 5)
        try:
            status, _ = call(connection, "POST", "/getImagetoImage", SUBMIT, {**HEADERS, **extra})
            outcomes[label] = str(status)
        except Exception as exc:
            outcomes[label] = repr(exc)[:80]
        finally:
            connection.close()

    with serving() as server:
        clients = [
            threading.Thread(target=client, args=("hang", {"X-Mock-Fault": "hang"}, server.port), daemon=True),
            threading.Thread(target=client, args=("held", {"X-Mock-Latency": "fixed:3600s"}, server.port), daemon=True),
        ]
        for thread in clients:
            thread.start()
        time.sleep(SHUTDOWN_SETTLE)
        in_flight = sum(1 for thread in clients if thread.is_alive())
        started = time.perf_counter()
        server.process.send_signal(sig)
        try:
            code: int | None = server.process.wait(timeout=EXIT_TIMEOUT)
            exited = f"{time.perf_counter() - started:.2f} s"
        except subprocess.TimeoutExpired:
            code, exited = None, f"still running after {EXIT_TIMEOUT:.0f} s (killed)"
            server.stop()
        for thread in clients:
            thread.join(timeout=EXIT_TIMEOUT + 10)
    return [
        (name, "clients in flight at the signal", f"{in_flight} of {len(clients)}"),
        (name, "time to exit", exited),
        (name, "exit code", "none" if code is None else str(code)),
        stderr_row(name, server),
        (name, "X-Mock-Fault: hang client got", outcomes.get("hang", "no outcome (client stuck)")),
        (name, "X-Mock-Latency: fixed:3600s client got", outcomes.get("held", "no outcome (client stuck)")),
    ]


def table(rows: list[Row]) -> str:
    header: Row = ("scenario", "measure", "value")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(2)]
    lines = [f"{header[0]:<{widths[0]}}  {header[1]:<{widths[1]}}  {header[2]}"]
    lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 5}")
    lines += [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def main() -> int:
    if not Path("/proc/self/status").exists():
        print("bench_hostile: needs Linux /proc", file=sys.stderr)
        return 2
    scenarios: list[tuple[str, Callable[[], list[Row]]]] = [
        ("1 journal flood", journal_flood),
        ("2 namespaces", namespaces),
        ("3 queued tasks", queued_tasks),
        ("4 abandoned held", abandoned_held),
        ("5 shutdown SIGTERM", lambda: shutdown(signal.SIGTERM)),
        ("5 shutdown SIGINT", lambda: shutdown(signal.SIGINT)),
    ]
    rows: list[Row] = []
    began = time.perf_counter()
    for label, scenario in scenarios:
        print(f"running {label} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            rows += scenario()
        except Exception as exc:
            rows.append((label, "scenario failed", repr(exc)[:200]))
        print(f"  {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    print(
        f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, loopback, "
        f"one uvicorn worker, --latency none; whole run {time.perf_counter() - began:.0f} s"
    )
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
