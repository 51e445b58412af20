"""`qolaba-mock serve` stops when told, whatever is in flight, without a traceback; a client that leaves mid-upload
is no error. These run the real command in a subprocess: signals and sockets are the point."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import AUTH, valid_body

CLI = [sys.executable, "-m", "mockserver.cli", "serve", "--port", "0", "--latency", "none"]
# Generous bounds: they only keep a broken build from hanging the suite; the bench measures the real times.
EXIT_WITHIN = 20.0


@dataclass
class Served:
    process: subprocess.Popen[str]
    url: str
    replies: list[int | str] = field(default_factory=list)
    calls: list[threading.Thread] = field(default_factory=list)

    def call_in_background(
        self, headers: dict[str, str], body: dict[str, object], client: httpx.Client | None = None
    ) -> None:
        """POST a submit on a thread; `client` (shared by many threads: building one costs milliseconds) or a
        client of its own."""

        def call() -> None:
            try:
                with (
                    httpx.Client(base_url=self.url, headers=AUTH, timeout=EXIT_WITHIN)
                    if client is None
                    else (nullcontext(client)) as using
                ):
                    self.replies.append(using.post("/getImagetoImage", json=body, headers=headers).status_code)
            except httpx.HTTPError as exc:
                self.replies.append(type(exc).__name__)

        thread = threading.Thread(target=call, daemon=True)
        thread.start()
        self.calls.append(thread)

    def join_calls(self) -> None:
        for thread in self.calls:
            thread.join(EXIT_WITHIN)

    def wait_until(self, condition: Callable[[dict[str, object]], bool]) -> None:
        """Ask the server's health until `condition` holds of it (each ask is a real round trip, not a sleep)."""
        deadline = time.monotonic() + EXIT_WITHIN
        with httpx.Client(base_url=self.url, timeout=EXIT_WITHIN) as client:
            while not condition(client.get("/__admin/health").json()):
                assert time.monotonic() < deadline, "the server never got there"

    def stop(self, *signals: signal.Signals) -> tuple[int, str]:
        for sig in signals:
            self.process.send_signal(sig)
        code = self.process.wait(timeout=EXIT_WITHIN)
        assert self.process.stderr is not None
        return code, self.process.stderr.read()


@contextmanager
def served(*flags: str, sigint: signal.Handlers = signal.SIG_DFL) -> Iterator[Served]:
    # The server starts with SIGINT as given, whatever this test process inherited (a shell's background job
    # starts with it ignored).
    def starting() -> None:
        signal.signal(signal.SIGINT, sigint)

    command = [*CLI, *flags]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with subprocess.Popen(command, preexec_fn=starting, **pipes) as process:  # type: ignore[call-overload]
        assert process.stdout is not None
        try:
            yield Served(process, process.stdout.readline().rsplit(" ", 1)[1].strip())
        finally:
            if process.poll() is None:
                process.kill()


def with_two_held_requests(server: Served) -> None:
    server.call_in_background({"X-Mock-Fault": "hang"}, valid_body())
    server.call_in_background({"X-Mock-Latency": "fixed:3600s"}, valid_body())
    server.wait_until(lambda health: health["held"] == 2)


def test_sigterm_ends_the_server_with_a_hung_and_a_held_request_in_flight() -> None:
    with served() as server:
        with_two_held_requests(server)
        code, stderr = server.stop(signal.SIGTERM)

    assert code in (0, -signal.SIGTERM)
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    assert sorted(map(str, server.replies)) == ["503", "503"]  # both clients were told, not dropped


def test_one_ctrl_c_ends_the_server_with_one_line() -> None:
    with served() as server:
        with_two_held_requests(server)
        code, stderr = server.stop(signal.SIGINT)

    assert code == 130
    assert stderr == "qolaba-mock: interrupted\n"


def test_ctrl_c_ends_the_server_with_one_line_even_when_its_parent_ignores_sigint() -> None:
    with served(sigint=signal.SIG_IGN) as server:
        with_two_held_requests(server)
        code, stderr = server.stop(signal.SIGINT)

    assert (code, stderr) == (130, "qolaba-mock: interrupted\n")


def test_a_second_ctrl_c_prints_no_traceback() -> None:
    with served() as server:
        with_two_held_requests(server)
        code, stderr = server.stop(signal.SIGINT, signal.SIGINT)

    assert code == 130
    assert "Traceback" not in stderr, stderr


def test_a_client_leaving_mid_upload_is_no_error_and_the_server_keeps_serving() -> None:
    with served() as server:
        address = urlsplit(server.url)
        with socket.create_connection((address.hostname, address.port)) as raw:
            raw.sendall(
                b"POST /getImagetoImage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n"
                b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n" + b'{"prompt": "' + b"a" * 1000
            )
        with httpx.Client(base_url=server.url, headers=AUTH) as client:
            assert client.post("/getImage", json={"id": "x"}).status_code == 200
            # The abandoned upload is journaled once the server notices the close: unanswered, partly kept.
            deadline = time.monotonic() + EXIT_WITHIN
            while not any(e["status"] is None for e in client.get("/__admin/journal").json()["entries"]):
                assert time.monotonic() < deadline, "the abandoned upload was never journaled"
            entries = client.get("/__admin/journal").json()["entries"]
        code, stderr = server.stop(signal.SIGINT)

    assert (code, stderr) == (130, "qolaba-mock: interrupted\n")
    abandoned = next(e for e in entries if e["status"] is None)
    assert abandoned["path"] == "/getImagetoImage" and abandoned["request_bytes"] == len('{"prompt": "') + 1000


HELD = 64


@pytest.mark.parametrize("run", range(2))
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_every_one_of_64_held_requests_gets_its_503_before_the_server_exits(sig: signal.Signals, run: int) -> None:
    limits = httpx.Limits(max_connections=HELD)
    with served() as server, httpx.Client(base_url=server.url, headers=AUTH, timeout=EXIT_WITHIN, limits=limits) as c:
        for _ in range(HELD):
            server.call_in_background({"X-Mock-Latency": "fixed:3600s"}, valid_body(), client=c)
        server.wait_until(lambda health: health["held"] == HELD)
        code, stderr = server.stop(sig)
        server.join_calls()

    assert code in (0, -signal.SIGTERM, 130)
    assert "Traceback" not in stderr, stderr
    assert sorted(map(str, server.replies)) == ["503"] * HELD  # not one connection lost
