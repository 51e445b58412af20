"""Every request the fake answered, with its response: what tests and the admin API inspect."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

# Enough for a long test session; the oldest entries go first.
MAX_ENTRIES = 10_000


@dataclass(frozen=True)
class Entry:
    """One exchange. The bearer token is never stored: `token_id` is a short hash, enough to tell callers apart."""

    seq: int
    namespace: str
    started_at: float
    finished_at: float
    method: str
    path: str
    status: int | None
    fault: str | None
    token_id: str | None
    request_body: Any
    response_body: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Journal:
    """The entries of one namespace, oldest first (respx's CallList, for a server).

    Usage:
        journal.calls_to("/getImage")[-1].response_body["status"]
    """

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: deque[Entry] = deque(maxlen=max_entries)

    def record(self, entry: Entry) -> None:
        self._entries.append(entry)

    def calls_to(self, path: str | None = None) -> list[Entry]:
        """Entries whose path ends with `path` (so `/getImage` also matches `/api/v1/studio/getImage`)."""
        return [e for e in self._entries if path is None or e.path.endswith(path)]

    def clear(self) -> None:
        self._entries.clear()

    def __iter__(self) -> Iterator[Entry]:
        return iter(list(self._entries))

    def __len__(self) -> int:
        return len(self._entries)
