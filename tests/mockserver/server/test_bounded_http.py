"""Slow clients are cut: request headers and bodies that trickle in are answered 408 and closed after their
configured timeouts, and connections past the cap are closed at once. Over real sockets (LiveServer), with
timeouts of a fraction of a second; a trickling client here sends a byte every 50 ms and gives up after
SLOW_BYTES, so a server that never cuts it fails the test instead of hanging it."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from mockserver import Config
from mockserver.server.bounded_http import BoundedHttpProtocol
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH, valid_body

TIMEOUTS = Config(header_timeout=0.2, body_timeout=0.2)
# A generous hard cap: only keeps a broken build from hanging the suite.
HARD_CAP = 20.0
SLOW_BYTES = 400  # 20 s at one byte every 50 ms


@contextmanager
def connected(server: LiveServer) -> Iterator[socket.socket]:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=HARD_CAP) as sock:
        yield sock


def trickle(sock: socket.socket, data: bytes) -> threading.Thread:
    """Send `data` a byte every 50 ms, on a thread, until it is all sent or the server closes."""

    def send() -> None:
        for byte in data[:SLOW_BYTES]:
            try:
                sock.send(bytes([byte]))
            except OSError:
                return  # cut: what the test waits for
            time.sleep(0.05)  # the slow client itself, not a wait for the fake

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    return sender


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    received = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        if not chunk:
            return received
        received += chunk


def envelope_of(answer: bytes) -> dict[str, object]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), head
    assert b"connection: close" in head.lower()
    parsed: dict[str, object] = json.loads(body)
    return parsed


def test_request_headers_that_trickle_in_are_answered_408_and_the_connection_closed() -> None:
    with LiveServer(TIMEOUTS) as server, connected(server) as sock:
        trickle(sock, b"POST /getImage HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000)
        answer = read_until_closed(sock)

    body = envelope_of(answer)
    assert body["error"] == "Request Timeout" and "headers" in str(body["error_data"])


def test_a_request_body_that_trickles_in_is_answered_408_through_the_app_and_journaled() -> None:
    head = (
        b"POST /getImage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer t\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
    )
    with LiveServer(TIMEOUTS) as server, connected(server) as sock:
        sock.sendall(head)
        trickle(sock, b'{"id": "' + b"a" * 990)
        answer = read_until_closed(sock)
        with httpx.Client(base_url=server.url, timeout=HARD_CAP) as client:
            entries = client.get("/__admin/journal").json()["entries"]

    body = envelope_of(answer)
    assert body["error"] == "Request Timeout" and "body" in str(body["error_data"])
    assert [(e["path"], e["status"]) for e in entries] == [("/getImage", 408)]


def test_an_admin_body_that_trickles_in_is_answered_408() -> None:
    head = (
        b"POST /__admin/reset HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
    )
    with LiveServer(TIMEOUTS) as server, connected(server) as sock:
        sock.sendall(head)
        trickle(sock, b'{"scope": "' + b"a" * 480)
        answer = read_until_closed(sock)

    assert "did not arrive" in json.dumps(envelope_of(answer)["error_data"])


def test_a_body_the_fake_answers_without_reading_cannot_keep_its_connection_open_by_trickling() -> None:
    with LiveServer(TIMEOUTS) as server, connected(server) as sock:
        sock.sendall(b"GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n")
        trickle(sock, b"a" * 1000)
        answer = read_until_closed(sock)

    assert answer.startswith(b"HTTP/1.1 404 ")  # answered at once, then cut when the body ran late


def test_a_connection_that_sends_nothing_is_closed_without_an_answer() -> None:
    with LiveServer(TIMEOUTS) as server, connected(server) as sock:
        assert read_until_closed(sock) == b""


def test_a_held_request_has_no_read_deadline_and_gets_its_answer_however_long_it_is_held() -> None:
    with LiveServer(Config(header_timeout=0.2, body_timeout=0.2, clock="virtual")) as server:
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=HARD_CAP) as client:
            answers: list[int] = []
            held = threading.Thread(
                target=lambda: answers.append(
                    client.post(
                        "/getImagetoImage", json=valid_body(), headers={"X-Mock-Latency": "fixed:60s"}
                    ).status_code
                )
            )
            held.start()
            with httpx.Client(base_url=server.url, timeout=HARD_CAP) as admin:
                deadline = time.monotonic() + HARD_CAP
                while admin.get("/__admin/health").json()["held"] != 1:
                    assert time.monotonic() < deadline
                connections = [c for c in server._server.server_state.connections if c.answers_owed]
                waiting_for = [c.waiting_for for c in connections if isinstance(c, BoundedHttpProtocol)]
                admin.post("/__admin/clock/advance", json={"seconds": 60})
            held.join(HARD_CAP)

    assert waiting_for == [None]  # read whole and held: no read deadline runs
    assert answers == [200]


def test_connections_past_the_cap_are_closed_unanswered_and_those_within_it_are_served() -> None:
    with LiveServer(Config(max_connections=2)) as server:
        with connected(server) as first, connected(server) as second:
            for sock in (first, second):  # served, so the server has taken both in
                sock.sendall(b"GET /__admin/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            with connected(server) as third:
                assert read_until_closed(third) == b""
        with httpx.Client(base_url=server.url, headers=AUTH, timeout=HARD_CAP) as client:
            deadline = time.monotonic() + HARD_CAP
            while True:  # once the server has seen the two go, there is room again
                try:
                    assert client.post("/getImage", json={"id": "x"}).status_code == 200
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline


@pytest.mark.parametrize("key", ["header_timeout", "body_timeout", "max_connections"])
def test_the_read_bounds_are_settings_refused_unless_positive(key: str) -> None:
    from mockserver.config.settings import ConfigError

    with pytest.raises(ConfigError, match=key):
        Config(**{key: 0})
