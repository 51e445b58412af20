"""uvicorn's HTTP protocol with the bounds uvicorn lacks (README, "Limits"), and the count a shutdown waits on.

- A request's headers must arrive within `header_timeout` of the connection opening (or of its previous answer),
  and its body within `body_timeout` of the headers. uvicorn has no such timeout (encode/uvicorn#157): its
  keep-alive timer is reset by every byte, so a client trickling one byte a second holds its connection for
  ever, and ASGI middleware only runs once the headers are in.
- At most `max_connections` connections are open at once; a connection past that is closed unanswered.
- Each connection counts the requests it has read whole and not answered yet: a shutdown answers exactly those
  before it closes anything (draining.py).

Deadlines are checked on the server's tick (`sweep`, from DrainingServer.on_tick every 0.1 s), not by a timer
per request: a request pays for two stamps of the loop's clock, no more. Times are real seconds, whatever the
fake's clock.

Imported only when a server is started, like uvicorn itself.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any, ClassVar, NamedTuple

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.http.body_reader import BODY_TIMED_OUT
from mockserver.wire import envelope

# How long the app gets to answer its own 408 once told that a body is late, before the connection is cut.
_APP_GRACE = 1.0
_NO_DEADLINE = math.inf


class ReadLimits(NamedTuple):
    header_timeout: float
    body_timeout: float
    max_connections: int


def _timeout_answer(detail: str) -> bytes:
    body = envelope.encode(envelope.failed(error="Request Timeout", error_data=detail))
    head = (
        b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
    )
    return head + body


class BoundedHttpProtocol(HttpToolsProtocol):
    """One connection, under `limits`. Build a subclass per server with `protocol_for(limits)`."""

    limits: ClassVar[ReadLimits]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the connection waits for now ("headers", "body", "answer" once the app was told its body is
        # late), and until when on the loop's clock.
        self.waiting_for: str | None = None
        self.deadline = _NO_DEADLINE
        # Bytes of a request arrived since the connection last waited for headers.
        self._began = False
        # Requests read whole and not yet answered (more than one only when a client pipelines).
        self.answers_owed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        if len(self.connections) > self.limits.max_connections:
            transport.close()
            return
        self._wait_for_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self.answers_owed = 0  # nobody is left to answer
        self.deadline = _NO_DEADLINE
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._began = True

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.waiting_for, self.deadline = "body", self.loop.time() + self.limits.body_timeout

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._began = False
        if self.cycle is not None and self.cycle.response_complete:
            self._wait_for_headers()  # answered before its body was in (a 413, a 404): the next one's turn
        else:
            self.waiting_for, self.deadline = None, _NO_DEADLINE
            self.answers_owed += 1

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.answers_owed = max(0, self.answers_owed - 1)
        if self.waiting_for is None and not self.transport.is_closing():
            self._wait_for_headers()

    def _wait_for_headers(self) -> None:
        self.waiting_for, self.deadline = "headers", self.loop.time() + self.limits.header_timeout

    def expire(self) -> None:
        """Called by the server's sweep once `deadline` has passed."""
        waiting_for, self.deadline = self.waiting_for, _NO_DEADLINE
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if waiting_for == "headers":
            if self._began:  # part of a request came: say why it was cut
                seconds = self.limits.header_timeout
                self.transport.write(_timeout_answer(f"The request headers did not arrive within {seconds:g} s."))
            self.transport.close()
        elif waiting_for == "body" and cycle is not None and not cycle.response_started:
            # The app is reading the body: tell it (bodies.read_body answers 408 through the app, so the
            # journal has it), and cut the connection if no answer starts soon.
            cycle.scope["state"][BODY_TIMED_OUT] = self.limits.body_timeout
            cycle.message_event.set()
            self.waiting_for, self.deadline = "answer", self.loop.time() + _APP_GRACE
        elif waiting_for == "answer" and cycle is not None and not cycle.response_started:
            seconds = self.limits.body_timeout
            self.transport.write(_timeout_answer(f"The request body did not arrive within {seconds:g} s."))
            cycle.disconnected = True  # the app's own answer, if it ever comes, goes nowhere
            cycle.message_event.set()
            self.transport.close()
        elif cycle is not None and not cycle.response_complete:
            # The answer is on its way while the rest of the body still trickles in: close once it is out.
            cycle.keep_alive = False
        else:
            self.transport.close()  # answered; the unread rest of the body is not worth waiting for


def protocol_for(limits: ReadLimits) -> type[BoundedHttpProtocol]:
    """The protocol class a uvicorn Config takes as `http`, bound to these limits."""
    return type("BoundedHttpProtocol", (BoundedHttpProtocol,), {"limits": limits})


def sweep(connections: set[Any], now: float) -> None:
    """Expire every connection of ours whose deadline has passed."""
    for connection in tuple(connections):
        if isinstance(connection, BoundedHttpProtocol) and connection.deadline <= now:
            connection.expire()


def answers_owed(connections: set[Any]) -> int:
    """Requests read whole that have no answer yet, over all connections."""
    return sum(c.answers_owed for c in connections if isinstance(c, BoundedHttpProtocol))
