"""Every request the fake answered, with its response: what tests and the admin API inspect.

The journal keeps bytes, not parsed objects: the first `body_bytes` of each body, under a total byte bound,
so a client cannot make it grow past its bounds by sending bodies that parse into large objects.
Bodies are decoded when read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from mockserver.decoding import InvalidJson, parse_value

# What one entry costs beyond its kept bodies (fields, strings, bookkeeping), for the byte bound.
_ENTRY_OVERHEAD = 400


@dataclass(frozen=True, slots=True)
class Body:
    """A body as the journal keeps it: its first bytes, its full size and its media type."""

    kept: bytes = b""
    size: int = 0
    media_type: str = ""

    @property
    def truncated(self) -> bool:
        return len(self.kept) < self.size

    def readable(self) -> Any:
        """The decoded JSON, a summary for images, or the text (marked when cut short); None when empty."""
        if not self.size:
            return None
        if self.media_type.startswith("image/"):
            return f"<{self.media_type}, {self.size} bytes>"
        if not self.truncated:
            try:
                return parse_value(self.kept)
            except InvalidJson:
                pass
        text = self.kept.decode("utf-8", "replace")
        return f"{text}… ({self.size} bytes in all)" if self.truncated else text


@dataclass(frozen=True, slots=True)
class Entry:
    """One exchange. The bearer token is never stored: `token_id` is a keyed hash, enough to tell callers apart.

    `status` is None when no answer reached the client (a connection fault, or the client left first).
    """

    seq: int
    namespace: str
    started_at: float
    finished_at: float
    method: str
    path: str
    status: int | None
    fault: str | None
    token_id: str | None
    request: Body = field(default_factory=Body)
    response: Body = field(default_factory=Body)

    @property
    def request_body(self) -> Any:
        return self.request.readable()

    @property
    def response_body(self) -> Any:
        return self.response.readable()

    @property
    def size(self) -> int:
        return len(self.request.kept) + len(self.response.kept) + _ENTRY_OVERHEAD

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "namespace": self.namespace,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "fault": self.fault,
            "token_id": self.token_id,
            "request_body": self.request_body,
            "request_bytes": self.request.size,
            "response_body": self.response_body,
            "response_bytes": self.response.size,
        }


class Journal:
    """The entries of one namespace, oldest first (respx's CallList, for a server).

    Holds at most `max_entries` entries and `max_bytes` of them; the oldest go first.

    Usage:
        journal.calls_to("/getImage")[-1].response_body["status"]
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._entries: deque[Entry] = deque()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bytes = 0

    def record(self, entry: Entry) -> None:
        self._entries.append(entry)
        self._bytes += entry.size
        while len(self._entries) > self.max_entries or (self._bytes > self.max_bytes and len(self._entries) > 1):
            self._bytes -= self._entries.popleft().size

    def calls_to(self, path: str | None = None) -> list[Entry]:
        """Entries whose path ends with `path` (so `/getImage` also matches `/api/v1/studio/getImage`)."""
        # A snapshot first: a live server's thread may append while a test's thread reads.
        return [e for e in list(self._entries) if path is None or e.path.endswith(path)]

    def page(
        self, *, after: int = 0, limit: int, max_bytes: int | None = None, path: str | None = None
    ) -> tuple[list[Entry], bool]:
        """Up to `limit` entries with `seq` above `after`, oldest first, and whether more follow them.

        `max_bytes` ends the page early once its entries weigh that much (always at least one entry).
        """
        found: list[Entry] = []
        weight = 0
        for entry in list(self._entries):
            if entry.seq <= after or (path is not None and not entry.path.endswith(path)):
                continue
            if len(found) == limit or (max_bytes is not None and found and weight + entry.size > max_bytes):
                return found, True
            found.append(entry)
            weight += entry.size
        return found, False

    @property
    def bytes(self) -> int:
        """What the entries weigh, as the `max_bytes` bound counts it."""
        return self._bytes

    def clear(self) -> None:
        self._entries.clear()
        self._bytes = 0

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
