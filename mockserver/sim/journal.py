"""Every request the fake answered, with its response: what tests and the admin API inspect.

The journal keeps bytes, not parsed objects: the first `body_bytes` of each body, under a total byte bound,
so a client cannot make it grow past its bounds by sending bodies that parse into large objects.
Bodies are decoded when read. It reads like respx's `CallList`: `journal[-1]`, `journal.last`,
`journal.call_count`, `journal.calls_to("/getImage").last`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, overload

from contracts.spec.strict_json import InvalidJson, parse_value

# What one entry costs beyond its kept bodies and headers (fields, strings, bookkeeping), for the byte bound.
_ENTRY_OVERHEAD = 400
# Response headers that can carry a credential: kept by name only, their value never stored.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
FILTERED = "[Filtered]"

Headers = tuple[tuple[str, str], ...]


def kept_headers(raw: Iterable[tuple[str, str]], secrets: Iterable[str] = ()) -> Headers:
    """Response headers as the journal keeps them: names lower-cased, credential headers and any of `secrets`
    (the caller's bearer token) replaced by `[Filtered]`."""
    hidden = [s for s in secrets if s]
    kept = []
    for name, value in raw:
        name = name.lower()
        if name in _SECRET_HEADERS:
            value = FILTERED
        for secret in hidden:
            # Only a value holding the secret at all is searched for it as a whole token.
            if secret in value:
                value = _whole_token(secret).sub(FILTERED, value)
        kept.append((name, value))
    return tuple(kept)


def headers_size(headers: Headers) -> int:
    """What kept headers weigh in the journal's byte bound, with the entry's own fixed cost."""
    return sum(len(name) + len(value) for name, value in headers) + _ENTRY_OVERHEAD


def _whole_token(secret: str) -> re.Pattern[str]:
    # A bearer token is a run of token68 characters: matched whole, so a token "t" leaves "text/plain" alone.
    return re.compile(rf"(?<![\w.~+/=-]){re.escape(secret)}(?![\w.~+/=-])")


# Entries and bodies are named tuples: immutable, and one of each is built per request, at a fifth of a frozen
# dataclass's cost.
class Body(NamedTuple):
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


class Entry(NamedTuple):
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
    request: Body = Body()
    response: Body = Body()
    # As sent, names lower-cased, credentials filtered (`kept_headers`).
    response_headers: Headers = ()
    # The fidelity profile that answered (its name, shared with every other entry of that profile).
    profile: str = ""
    # The request's X-Mock-* steering headers (`x-mock-fault`, `x-mock-latency`), as sent.
    steering: Headers = ()
    # Wall time (seconds since the epoch) when the answer was recorded, whatever the namespace's clock says. Left
    # out of `as_dict`: on a virtual clock, two runs with one seed give identical journals.
    wall_at: float = 0.0

    @property
    def request_body(self) -> Any:
        return self.request.readable()

    @property
    def response_body(self) -> Any:
        return self.response.readable()

    def response_header(self, name: str) -> str | None:
        """The first value of response header `name` (any case), or None if the answer had none."""
        name = name.lower()
        return next((value for key, value in self.response_headers if key == name), None)

    @property
    def size(self) -> int:
        """What the entry weighs in the journal's byte bound."""
        steered = sum(len(name) + len(value) for name, value in self.steering)
        return len(self.request.kept) + len(self.response.kept) + headers_size(self.response_headers) + steered

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
            "response_headers": _joined(self.response_headers),
            "profile": self.profile,
            "steering": dict(self.steering),
        }


def _joined(headers: Headers) -> dict[str, str]:
    # A repeated header reads as one, its values joined by commas, as HTTP allows.
    joined: dict[str, str] = {}
    for name, value in headers:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


class _CallView(Sequence[Entry]):
    """What `Calls` and `Journal` share: indexing, slicing, `last`, `call_count`, `called`, `calls_to`."""

    def _snapshot(self) -> tuple[Entry, ...]:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> Calls: ...

    def __getitem__(self, index: int | slice) -> Entry | Calls:
        entries = self._snapshot()
        if isinstance(index, slice):
            return Calls(entries[index])
        try:
            return entries[index]
        except IndexError:
            raise IndexError(f"journal index {index} out of range: {len(entries)} call(s) recorded") from None

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._snapshot())

    def __reversed__(self) -> Iterator[Entry]:
        return reversed(self._snapshot())

    def __len__(self) -> int:
        return len(self._snapshot())

    @property
    def last(self) -> Entry:
        """The most recent call; IndexError if there is none."""
        entries = self._snapshot()
        if not entries:
            raise IndexError("no call recorded: the journal is empty")
        return entries[-1]

    @property
    def call_count(self) -> int:
        return len(self)

    @property
    def called(self) -> bool:
        return len(self) > 0

    def calls_to(self, path: str | None = None) -> Calls:
        """Entries whose path ends with `path` (so `/getImage` also matches `/api/v1/studio/getImage`)."""
        return Calls(e for e in self._snapshot() if path is None or e.path.endswith(path))


class Calls(_CallView):
    """A fixed list of journal entries, oldest first: what `calls_to` and slicing return.

    Usage:
        polls = mock.journal.calls_to("/getImage")
        assert polls.call_count == 2 and polls.last.status == 200
    """

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._entries = tuple(entries)

    def _snapshot(self) -> tuple[Entry, ...]:
        return self._entries

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Calls):
            return self._entries == other._entries
        if isinstance(other, list | tuple):
            return list(self._entries) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._entries)

    def __repr__(self) -> str:
        return f"Calls({list(self._entries)!r})"


class Journal(_CallView):
    """The entries of one namespace, oldest first (respx's CallList, for a server).

    Holds at most `max_entries` entries and `max_bytes` of them; the oldest go first.

    Usage:
        journal[0].path, journal.last.status, journal.call_count
        journal.calls_to("/getImage").last.response_body["status"]
    """

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self._entries: deque[Entry] = deque()
        # Each entry's size, worked out once when it is recorded, not again when it leaves.
        self._sizes: deque[int] = deque()
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._bytes = 0

    def record(self, entry: Entry, *, size: int | None = None) -> None:
        """Keep `entry`, forgetting the oldest past the bounds; `size` is `entry.size`, if the caller knows it."""
        size = entry.size if size is None else size
        entries, sizes = self._entries, self._sizes
        entries.append(entry)
        sizes.append(size)
        self._bytes += size
        while len(entries) > self.max_entries or (self._bytes > self.max_bytes and len(entries) > 1):
            entries.popleft()
            self._bytes -= sizes.popleft()

    def _snapshot(self) -> tuple[Entry, ...]:
        # A snapshot first: a live server's thread may append while a test's thread reads.
        return tuple(self._entries)

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
        self._sizes.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<Journal: {len(self)} call(s), {self._bytes} bytes>"
