"""The live journal as Server-Sent Events, at a bounded cost per open dashboard.

- At most `MAX_STREAMS` streams at once; the next is answered 429 with a sentence saying why (README Limits).
- A stream holds no queue: it reads the namespace's journal (already bounded) from the last seq it sent, at
  most `BATCH_ROWS` rows a turn; past that it tells the page that rows were skipped and to page them.
- A browser that does not take an event within `SEND_SECONDS` is dropped, never buffered for.
- The server's shutdown drain (mockserver/http/shutdown.py) ends every stream at once, well inside the
  one-second promise of mockserver/server/draining.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

from starlette.responses import StreamingResponse
from starlette.types import Send

from mockserver.http.shutdown import Drain

MAX_STREAMS = 8  # not a contract bound
BATCH_ROWS = 50  # not a contract bound
SEND_SECONDS = 10.0
# How often a stream looks for new entries, and how often it proves the browser is still there.
POLL_SECONDS = 0.25
HEARTBEAT_SECONDS = 5.0


class StreamGate:
    """Counts the open streams, up to `limit`."""

    def __init__(self, limit: int = MAX_STREAMS) -> None:
        self.limit = limit
        self.open = 0
        self._lock = threading.Lock()

    def enter(self) -> bool:
        with self._lock:
            if self.open >= self.limit:
                return False
            self.open += 1
            return True

    def leave(self) -> None:
        with self._lock:
            self.open -= 1


class EventStream(StreamingResponse):
    """A StreamingResponse whose every send has a deadline: a stalled browser ends its stream."""

    def __init__(self, events: AsyncIterator[str], on_close: Callable[[], None], send_seconds: float) -> None:
        super().__init__(
            events,
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )
        self._on_close = on_close
        self._send_seconds = send_seconds

    async def stream_response(self, send: Send) -> None:
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            async for chunk in self.body_iterator:
                data = chunk.encode() if isinstance(chunk, str) else bytes(chunk)
                message = {"type": "http.response.body", "body": data, "more_body": True}
                try:
                    await asyncio.wait_for(send(message), self._send_seconds)
                except TimeoutError:
                    return  # the browser stopped reading: drop it rather than hold what it has not taken
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            self._on_close()


def event(name: str, data: str, ident: int | None = None) -> str:
    """One SSE event; `data` may span lines (each is sent as its own `data:` line)."""
    lines = [f"event: {name}"]
    if ident is not None:
        lines.append(f"id: {ident}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


async def until_drained(drain: Drain, seconds: float) -> bool:
    """Wait `seconds`, or less if the server starts shutting down; True once it has."""
    if drain.started:
        return True
    signal = drain.signal()
    try:
        await asyncio.wait({signal}, timeout=seconds)
    finally:
        signal.cancel()  # no-op once done; else the drain forgets it
    return drain.started
