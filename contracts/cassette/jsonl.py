"""Cassettes: exchanges with the API recorded as JSON lines, plain, stable and reviewable.

The first line is a header; each further line is one exchange, in the order it happened:

    {"qolaba_mock_cassette": 1, "upstream": "https://qolaba-server-b2b.up.railway.app/api/v1/studio"}
    {"seq": 1, "at": 0.0, "method": "POST", "path": "/getImagetoImage", "auth": "bearer", "token": "t1",
     "request": {"json": {"app_id": "...", "celery": true}}, "seconds": 0.412,
     "response": {"status": 200, "headers": {"content-type": "application/json"}, "json": {"status": "PENDING", ...}}}
    {"seq": 2, "at": 20.5, "method": "POST", "path": "/getImage", "auth": "bearer", "token": "t1",
     "request": {"json": {"id": "8c3e..."}}, "task": {"submit": 1, "offset": 20.5}, "seconds": 0.05,
     "response": {"status": 200, "headers": {...}, "json": {"status": "SUCCESS", ...}}}

No token is ever written: `auth` says how the caller authenticated (`bearer`, `other`, or null for no header)
and `token` names the token `t1`, `t2`, ... in order of first use, with a key that lives only while the file
is written, so the names tell callers apart within one file and nothing more. A poll of a queued task carries
`task`: which submit queued it, and how many seconds after that submit it was sent. An image answer keeps
its media type, size and pixel dimensions, not its bytes. A body that is not JSON as RFC 8259 and the fake
read it (too deep, NaN, a lone surrogate, or not JSON at all) is kept as `text`, with a `note` saying why,
so every line is plain JSON that any reader takes.

Reading checks every value (contracts/cassette/line_rules.py): a cassette is input like any other, and replay
acts on what it says. The writer is contracts/cassette/jsonl_writer.py.
"""

from __future__ import annotations

import gc
import io
import itertools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from contracts.cassette.line_rules import LineError, check_exchange, check_header
from contracts.cassette.token_names import Auth
from contracts.spec.strict_json import MAX_DEPTH, InvalidJson, parse_value

# Response headers a client acts on; the rest (dates, server names, lengths) would only make diffs noisy.
KEPT_HEADERS = ("content-type", "retry-after", "www-authenticate", "allow")
# A line wraps a body in two levels of its own (the line, then `request` or `response`).
LINE_DEPTH = MAX_DEPTH + 2
# Bounds on a cassette of ours, read a line at a time (README, "Limits"): about 4.7 KB in memory an exchange,
# so a full one holds about 1.2 GiB; a line holds an answer of up to 64 MiB (the recording proxy's bound).
MAX_JSONL_BYTES = 256 << 20
MAX_LINE_BYTES = 80 << 20


class CassetteError(ValueError):
    """A cassette that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Message:
    """A request or response body as recorded: JSON, else text (with a note saying why), else (responses only)
    an image."""

    json: Any = None
    text: str | None = None
    image: dict[str, Any] | None = None
    is_json: bool = False
    # A request's Content-Type as sent (it decides how FastAPI reads the body); None when none was sent.
    content_type: str | None = None
    # A request's X-Mock-* headers: steering of a fake under record, which a diff must send again.
    steering: dict[str, str] | None = None
    # Why a body is kept as text: what made it other than JSON the fake reads.
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        typed: dict[str, Any] = {} if self.content_type is None else {"content_type": self.content_type}
        if self.steering:
            typed["steering"] = self.steering
        if self.is_json:
            return {**typed, "json": self.json}
        if self.image is not None:
            return {"image": self.image}
        noted = {**typed, "note": self.note} if self.note else typed
        return {**noted, "text": self.text} if self.text else noted

    @classmethod
    def of(cls, raw: bytes, media_type: str = "") -> Message:
        """A body as it came off the wire: JSON only when the fake's own decoder reads it."""
        if media_type.startswith("image/"):
            return cls(image={"media_type": media_type.partition(";")[0], "bytes": len(raw), **_pixels(raw)})
        if not raw:
            return cls()
        try:
            return cls(json=parse_value(raw, subject="The body"), is_json=True)
        except InvalidJson as exc:
            note = str(exc)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
            note += " Bytes that are not UTF-8 are kept as U+FFFD."
        return cls(text=text, note=note)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        content_type, steering = data.get("content_type"), data.get("steering")
        if "json" in data:
            return cls(json=data["json"], is_json=True, content_type=content_type, steering=steering)
        return cls(
            text=data.get("text"),
            image=data.get("image"),
            content_type=content_type,
            steering=steering,
            note=data.get("note"),
        )

    def sent_with(self, content_type: str | None, steering: dict[str, str]) -> Message:
        """This request body, with the headers that shaped its answer."""
        return Message(self.json, self.text, self.image, self.is_json, content_type, steering or None, self.note)

    def raw(self) -> bytes:
        if self.is_json:
            return json.dumps(self.json).encode()
        return (self.text or "").encode()


@dataclass(frozen=True)
class Exchange:
    seq: int
    at: float
    method: str
    path: str
    auth: Auth
    token: str | None
    request: Message
    status: int
    headers: dict[str, str]
    response: Message
    seconds: float = 0.0
    # For a poll of a queued task: the seq of the submit that queued it, and the seconds since that submit.
    task: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        line: dict[str, Any] = {
            "seq": self.seq,
            "at": round(self.at, 6),
            "method": self.method,
            "path": self.path,
            "auth": self.auth,
            "token": self.token,
            "request": self.request.to_dict(),
            "response": {"status": self.status, "headers": self.headers, **self.response.to_dict()},
            "seconds": round(self.seconds, 3),
        }
        if self.task is not None:
            line["task"] = self.task
        return line


@dataclass(frozen=True)
class Cassette:
    """A recording, whatever file it came from: the base URL its paths were called under, and its exchanges."""

    upstream: str
    exchanges: tuple[Exchange, ...]
    # What a user should know of how it was read (entries skipped, no timestamps), one sentence each.
    notes: tuple[str, ...] = ()
    # Whether the file held a credential in clear (a HAR or VCR file often does): the file itself is a secret.
    held_credentials: bool = False
    # Indexes, so a replay of a long recording finds a task's submit and polls without a scan.
    _by_seq: dict[int, Exchange] = field(init=False, repr=False, compare=False)
    _polls: dict[int, list[Exchange]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        polls: dict[int, list[Exchange]] = {}
        for exchange in self.exchanges:
            if exchange.task is not None:
                polls.setdefault(exchange.task["submit"], []).append(exchange)
        object.__setattr__(self, "_by_seq", {exchange.seq: exchange for exchange in self.exchanges})
        object.__setattr__(self, "_polls", polls)

    def submit_of(self, exchange: Exchange) -> Exchange | None:
        """The submit that queued the task `exchange` polls, if it is a poll."""
        return None if exchange.task is None else self._by_seq.get(exchange.task["submit"])

    def polls_of(self, submit: Exchange) -> list[Exchange]:
        return list(self._polls.get(submit.seq, ()))


def read_jsonl(path: str | Path, *, max_seconds: float | None = None) -> Cassette:
    """The cassette of our own format at `path`, every value checked; CassetteError names the file, the line and
    the value. Read a line at a time: memory holds the exchanges, never the file's text whole.

    `max_seconds` bounds the `seconds` and task `offset` of every exchange (replay passes `max_latency`).
    contracts.cassette.reading.read_cassette reads this format and HAR and VCR files, by their content.

    Usage:
        cassette = read_jsonl("prod.jsonl", max_seconds=3600)
    """
    try:
        with Path(path).open("rb") as file, collector_paused():
            return _read(path, _lines(path, file), max_seconds)
    except OSError as exc:
        raise CassetteError(f"{path}: cannot be read: {exc.strerror}") from None


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a cassette (or an index of one) is built.

    Reading makes a million objects and frees none: the collector would walk them all again and again (a
    100,000-line cassette read four times slower with it on).
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _lines(path: str | Path, file: IO[bytes]) -> Iterator[bytes]:
    read = 0
    for number in itertools.count(1):
        text = file.readline(MAX_LINE_BYTES + 1)
        if not text:
            return
        read += len(text)
        if len(text) > MAX_LINE_BYTES:
            raise CassetteError(f"{path}:{number}: the line is longer than {_mib(MAX_LINE_BYTES)} (README, Limits)")
        if read > MAX_JSONL_BYTES:
            raise CassetteError(f"{path}:{number}: the file is longer than {_mib(MAX_JSONL_BYTES)} (README, Limits)")
        yield text


def _read(path: str | Path, lines: Iterator[bytes], max_seconds: float | None) -> Cassette:
    first = next(lines, b"")
    if not first.strip():
        raise CassetteError(f"{path}: is empty; a cassette starts with its header line")
    try:
        upstream = check_header(_line(first))
    except LineError as exc:
        raise CassetteError(f"{path}:1: {exc}") from None
    exchanges: list[Exchange] = []
    seen: set[int] = set()
    for number, text in enumerate(lines, 2):
        if not text.strip():
            continue
        try:
            exchanges.append(exchange_from_line(_line(text), max_seconds, seen))
        except LineError as exc:
            raise CassetteError(f"{path}:{number}: {exc}") from None
    return Cassette(upstream=upstream, exchanges=tuple(exchanges))


def _mib(size: int) -> str:
    return f"{size >> 20} MiB"


def _line(text: bytes) -> Any:
    try:
        return parse_value(text, max_depth=LINE_DEPTH, subject="The line")
    except InvalidJson as exc:
        raise LineError(str(exc).rstrip(".")) from None


def exchange_from_line(line: Any, max_seconds: float | None, seen: set[int]) -> Exchange:
    """The exchange a line of our format describes, every value checked (LineError names the one that is wrong);
    `seen` holds the seqs of the lines before it. The HAR and VCR readers build such lines too."""
    check_exchange(line, max_seconds)
    seq, task = int(line["seq"]), line.get("task")  # int(): JSON's 1.0 is the integer 1
    if seq in seen:
        raise LineError(f"seq={seq} is used by an earlier line; each exchange has its own")
    if task is not None and task["submit"] not in seen:
        raise LineError(f"task.submit={task['submit']} must be the seq of an earlier line (the submit)")
    seen.add(seq)
    response = line["response"]
    return Exchange(
        seq=seq,
        at=float(line["at"]),
        method=line["method"],
        path=line["path"],
        auth=line.get("auth"),
        token=line.get("token"),
        request=Message.from_dict(line.get("request", {})),
        status=int(response["status"]),
        headers={name.lower(): value for name, value in response.get("headers", {}).items()},
        response=Message.from_dict(response),
        seconds=float(line.get("seconds", 0.0)),
        task=None if task is None else {"submit": task["submit"], "offset": float(task["offset"])},
    )


def _pixels(raw: bytes) -> dict[str, int]:
    # The recorded size is what replay serves; Pillow reads only the header here.
    try:
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as image:
            return {"width": image.width, "height": image.height}
    except Exception:  # not an image Pillow knows: size unknown, bytes still counted
        return {}
