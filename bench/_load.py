"""What the live-server benchmarks share: servers in subprocesses, and raw HTTP/1.1 load from this process.

The client speaks HTTP/1.1 on plain asyncio protocols (uvloop when installed): an HTTP library would cost
more per request than the servers it measures. Servers and client are separate processes, so the client's
CPU is not charged to the server. Loopback only; every server started is stopped, killed if need be.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
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
START_TIMEOUT = 20.0


def submit_request(host: str, body: dict[str, object] = BODY) -> bytes:
    """A keep-alive `POST /getImagetoImage` with a bearer token, as raw bytes."""
    payload = json.dumps(body).encode()
    head = (
        f"POST /getImagetoImage HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer bench\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


@contextmanager
def serving(*command: str) -> Iterator[str]:
    """Run a server subprocess that prints `... on <url> ...` when listening; yield the URL; stop it after."""
    process = subprocess.Popen([sys.executable, *command], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if " on http://" not in line:
            raise RuntimeError(f"{' '.join(command)} did not start: {line!r}")
        # Whatever it prints later (the recording proxy's violation lines) must not fill the pipe and block it.
        threading.Thread(target=process.stdout.read, daemon=True).start()
        yield line.split(" on ", 1)[1].split()[0]
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fake(*flags: str) -> list[str]:
    """The command line of `qolaba-mock serve` on a free loopback port."""
    return ["-m", "mockserver.cli", "serve", "--host", "127.0.0.1", "--port", "0", *flags]


def bare(sleep: float = 0.0) -> list[str]:
    """The command line of the bare Starlette endpoint (bench/_bare.py)."""
    return [str(ROOT / "bench" / "_bare.py"), "--sleep", str(sleep)]


@contextmanager
def servers(**commands: list[str]) -> Iterator[dict[str, str]]:
    """Several servers at once, by name: their URLs."""
    with ExitStack() as stack:
        yield {name: stack.enter_context(serving(*command)) for name, command in commands.items()}


def address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # Windows
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class _Exchange(asyncio.Protocol):
    """One keep-alive connection sending the same request again as soon as each answer is whole."""

    def __init__(self, request: bytes, deadline: float, counts: list[int], done: asyncio.Future[None]) -> None:
        self.request, self.deadline, self.counts, self.done = request, deadline, counts, done
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's.
        self.transport = cast("asyncio.Transport", transport)
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return
            if not head.startswith(b"HTTP/1.1 200"):
                self._finish(RuntimeError(f"unexpected answer: {self.buffer[: end + 4 + length]!r}"))
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.counts[0] += 1
            if time.perf_counter() >= self.deadline:
                self._finish(None)
                return
            self.transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(exc or RuntimeError("the server closed the connection"))

    def _finish(self, error: Exception | None) -> None:
        if not self.done.done():
            if error is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(error)
        self.transport.close()


def throughput(url: str, request: bytes, *, connections: int, seconds: float) -> float:
    """Requests per second answered 200 over `seconds`, `connections` keep-alive clients each one at a time."""

    async def run() -> float:
        loop = asyncio.get_running_loop()
        host, port = address(url)
        counts = [0]
        started = time.perf_counter()
        deadline = started + seconds
        done = [loop.create_future() for _ in range(connections)]
        for future in done:
            await loop.create_connection(lambda f=future: _Exchange(request, deadline, counts, f), host, port)
        await asyncio.wait_for(asyncio.gather(*done), timeout=seconds + 30)
        return counts[0] / (time.perf_counter() - started)

    loop = new_loop()
    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


def burst(url: str, request: bytes, *, requests: int, timeout: float = 60.0) -> list[float]:
    """Open `requests` connections first, then send one request on each at once; each one's seconds from its
    send to its whole answer."""

    async def run() -> list[float]:
        host, port = address(url)
        connections = [await asyncio.open_connection(host, port) for _ in range(requests)]
        start = asyncio.Event()

        async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
            await start.wait()
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer: {head[:60]!r}")
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
            elapsed = time.perf_counter() - started
            writer.close()
            return elapsed

        tasks = [asyncio.create_task(one(reader, writer)) for reader, writer in connections]
        await asyncio.sleep(0.5)  # let the server accept every connection before the burst
        start.set()
        return list(await asyncio.wait_for(asyncio.gather(*tasks), timeout=timeout))

    loop = new_loop()
    try:
        return loop.run_until_complete(run())
    finally:
        loop.close()


def round_trips(url: str, request: bytes, *, count: int) -> list[float]:
    """Seconds from send to whole answer of `count` requests sent one after another on one keep-alive connection."""

    async def run() -> list[float]:
        reader, writer = await asyncio.open_connection(*address(url))
        seconds = []
        for _ in range(count):
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"unexpected answer: {head[:60]!r}")
            length = int(head.lower().split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            await reader.readexactly(length)
            seconds.append(time.perf_counter() - started)
        writer.close()
        return seconds

    loop = new_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(run(), timeout=60 + count))
    finally:
        loop.close()


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]
