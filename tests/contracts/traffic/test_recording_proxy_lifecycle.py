"""The recording proxy holds nothing its clients let go of: one pooled upstream connection, an upstream request
cancelled when its client leaves, and a stop (SIGINT, SIGTERM) that answers what is in flight and keeps the
cassette whole. The upstream is a live fake whose `hang` fault holds a request until its client goes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from contracts.cassette.reading import read_cassette
from contracts.traffic.recording_proxy import recording_proxy
from mockserver import Config
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH, valid_body

# Generous: it only keeps a broken build from hanging the suite.
WITHIN = 30.0
HUNG = {**AUTH, "X-Mock-Fault": "hang"}


def wait_until(admin: httpx.Client, condition: Callable[[dict[str, Any]], bool]) -> None:
    """Ask the upstream's health until `condition` holds of it (each ask a real round trip, not a sleep)."""
    deadline = time.monotonic() + WITHIN
    while not condition(admin.get("/__admin/health").json()):
        assert time.monotonic() < deadline, "the upstream never got there"


def raw_request(body: dict[str, Any], headers: dict[str, str]) -> bytes:
    payload = json.dumps(body).encode()
    lines = [f"{name}: {value}" for name, value in {**headers, "Content-Type": "application/json"}.items()]
    head = "\r\n".join(["POST /getImagetoImage HTTP/1.1", "Host: 127.0.0.1", *lines, f"Content-Length: {len(payload)}"])
    return head.encode() + b"\r\n\r\n" + payload


def test_a_client_that_leaves_cancels_its_upstream_request(tmp_path: Path) -> None:
    said: list[str] = []
    with LiveServer(Config()) as upstream, httpx.Client(base_url=upstream.url, timeout=WITHIN) as admin:
        app = recording_proxy(upstream.url, tmp_path / "c.jsonl", say=said.append)
        with LiveServer(Config(), app=app) as proxy:
            host, port = proxy.url.removeprefix("http://").split(":")
            with socket.create_connection((host, int(port))) as client:
                client.sendall(raw_request(valid_body(), HUNG))
                wait_until(admin, lambda health: health["held"] == 1)
            # The client has gone: the upstream's held request must see its own client (the proxy) go too.
            wait_until(admin, lambda health: health["held"] == 0)
            entries = admin.get("/__admin/journal").json()["entries"]
        app.state.close()

    assert [entry["status"] for entry in entries] == [None]  # unanswered: its client left
    assert said == ["client left: POST /getImagetoImage: its upstream request is cancelled"]
    assert read_cassette(tmp_path / "c.jsonl").exchanges == ()  # no answer, nothing to record


def test_exchanges_one_after_another_share_one_upstream_connection(tmp_path: Path) -> None:
    ports: list[int] = []

    async def answer(request: Request) -> JSONResponse:
        assert request.client is not None
        ports.append(request.client.port)
        return JSONResponse({"status": "PENDING"})

    upstream_app = Starlette(routes=[Route("/getImage", answer, methods=["POST"])])
    with LiveServer(Config(), app=upstream_app) as upstream:
        app = recording_proxy(upstream.url, tmp_path / "c.jsonl", say=lambda line: None)
        with LiveServer(Config(), app=app) as proxy, httpx.Client(base_url=proxy.url, timeout=WITHIN) as client:
            for _ in range(10):
                assert client.post("/getImage", json={"id": "x"}).status_code == 200
        app.state.close()

    assert len(ports) == 10 and len(set(ports)) == 1


def strict_json(line: str) -> Any:
    def reject(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=reject)


@pytest.mark.parametrize(
    ("sig", "codes"), [(signal.SIGINT, (130,)), (signal.SIGTERM, (0, -signal.SIGTERM))], ids=["SIGINT", "SIGTERM"]
)
def test_a_stopped_recording_answers_503_to_what_is_in_flight_and_leaves_a_whole_cassette(
    tmp_path: Path, sig: signal.Signals, codes: tuple[int, ...]
) -> None:
    out = tmp_path / "c.jsonl"
    replies: list[int | str] = []

    def call_hung(url: str) -> None:
        try:
            with httpx.Client(timeout=WITHIN) as client:
                replies.append(client.post(url + "/getImagetoImage", json=valid_body(), headers=HUNG).status_code)
        except httpx.HTTPError as exc:
            replies.append(type(exc).__name__)

    def starting() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)  # whatever this test process inherited

    command = [sys.executable, "-m", "mockserver.cli", "record", "--port", "0", "--out", str(out), "--upstream"]
    with LiveServer(Config()) as upstream, httpx.Client(base_url=upstream.url, timeout=WITHIN) as admin:
        pipes: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
        with subprocess.Popen([*command, upstream.url], preexec_fn=starting, **pipes) as process:
            try:
                assert process.stdout is not None and process.stderr is not None
                url = process.stdout.readline().split(" on ", 1)[1].split(" ", 1)[0]
                with httpx.Client(base_url=url, headers=AUTH, timeout=WITHIN) as client:
                    for _ in range(3):
                        assert client.post("/getImage", json={"id": "x"}).status_code == 200
                callers = [threading.Thread(target=call_hung, args=(url,)) for _ in range(3)]
                for caller in callers:
                    caller.start()
                wait_until(admin, lambda health: health["held"] == 3)
                process.send_signal(sig)
                code = process.wait(timeout=WITHIN)
                stderr = process.stderr.read()
                for caller in callers:
                    caller.join(WITHIN)
            finally:
                if process.poll() is None:
                    process.kill()
        wait_until(admin, lambda health: health["held"] == 0)  # the upstream's requests were let go, too

    assert code in codes
    assert "Traceback" not in stderr and "ERROR" not in stderr, stderr
    assert replies == [503, 503, 503]
    text = out.read_bytes().decode("utf-8")
    assert text.endswith("\n") and all(strict_json(line) for line in text.splitlines())
    assert [exchange.path for exchange in read_cassette(out).exchanges] == ["/getImage"] * 3
