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
its media type, size and pixel dimensions, not its bytes.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

FORMAT = 1
# Response headers a client acts on; the rest (dates, server names, lengths) would only make diffs noisy.
# Distinct tokens one cassette names apart (t1...); any past these are all "t+", so the writer's memory is bounded.
MAX_TOKEN_NAMES = 1_000
KEPT_HEADERS = ("content-type", "retry-after", "www-authenticate", "allow")
Auth = Literal["bearer", "other"] | None


class CassetteError(ValueError):
    """A cassette that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Message:
    """A request or response body as recorded: JSON, else text, else (responses only) an image."""

    json: Any = None
    text: str | None = None
    image: dict[str, Any] | None = None
    is_json: bool = False
    # A request's Content-Type as sent (it decides how FastAPI reads the body); None when none was sent.
    content_type: str | None = None
    # A request's X-Mock-* headers: steering of a fake under record, which a diff must send again.
    steering: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        typed: dict[str, Any] = {} if self.content_type is None else {"content_type": self.content_type}
        if self.steering:
            typed["steering"] = self.steering
        if self.is_json:
            return {**typed, "json": self.json}
        if self.image is not None:
            return {"image": self.image}
        return {**typed, "text": self.text} if self.text else typed

    @classmethod
    def of(cls, raw: bytes, media_type: str = "") -> Message:
        if media_type.startswith("image/"):
            return cls(image={"media_type": media_type.partition(";")[0], "bytes": len(raw), **_pixels(raw)})
        if not raw:
            return cls()
        try:
            return cls(json=json.loads(raw), is_json=True)
        except ValueError:
            return cls(text=raw.decode("utf-8", "replace"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        content_type, steering = data.get("content_type"), data.get("steering")
        if "json" in data:
            return cls(json=data["json"], is_json=True, content_type=content_type, steering=steering)
        return cls(text=data.get("text"), image=data.get("image"), content_type=content_type, steering=steering)

    def sent_with(self, content_type: str | None, steering: dict[str, str]) -> Message:
        """This request body, with the headers that shaped its answer."""
        return Message(self.json, self.text, self.image, self.is_json, content_type, steering or None)

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
    upstream: str
    exchanges: tuple[Exchange, ...]

    def submit_of(self, exchange: Exchange) -> Exchange | None:
        """The submit that queued the task `exchange` polls, if it is a poll."""
        if exchange.task is None:
            return None
        return next((e for e in self.exchanges if e.seq == exchange.task["submit"]), None)

    def polls_of(self, submit: Exchange) -> list[Exchange]:
        return [e for e in self.exchanges if e.task is not None and e.task["submit"] == submit.seq]


def read_cassette(path: str | Path) -> Cassette:
    """The cassette at `path`; CassetteError names the file and the line that cannot be read."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CassetteError(f"{path}: cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CassetteError(f"{path}: is not UTF-8 text") from None
    if not lines:
        raise CassetteError(f"{path}: is empty; a cassette starts with its header line")
    header = _line(path, 1, lines[0])
    if header.get("qolaba_mock_cassette") != FORMAT or not isinstance(header.get("upstream"), str):
        raise CassetteError(
            f'{path}:1: not a qolaba-mock cassette header (expected {{"qolaba_mock_cassette": 1, ...}})'
        )
    exchanges = [_exchange(path, number, _line(path, number, text)) for number, text in enumerate(lines[1:], 2) if text]
    return Cassette(upstream=header["upstream"], exchanges=tuple(exchanges))


def _line(path: str | Path, number: int, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CassetteError(f"{path}:{number}: not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise CassetteError(f"{path}:{number}: expected a JSON object")
    return value


def _exchange(path: str | Path, number: int, line: dict[str, Any]) -> Exchange:
    try:
        response = line["response"]
        exchange = Exchange(
            seq=int(line["seq"]),
            at=float(line["at"]),
            method=str(line["method"]),
            path=str(line["path"]),
            auth=line.get("auth"),
            token=line.get("token"),
            request=Message.from_dict(line.get("request") or {}),
            status=int(response["status"]),
            headers={str(k).lower(): str(v) for k, v in (response.get("headers") or {}).items()},
            response=Message.from_dict(response),
            seconds=float(line.get("seconds", 0.0)),
            task=line.get("task"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CassetteError(f"{path}:{number}: not an exchange ({type(exc).__name__}: {exc})") from None
    if exchange.auth not in ("bearer", "other", None):
        raise CassetteError(f"{path}:{number}: auth must be 'bearer', 'other' or null")
    if exchange.task is not None and not (
        isinstance(exchange.task, dict) and {"submit", "offset"} <= set(exchange.task)
    ):
        raise CassetteError(f"{path}:{number}: task must be {{'submit': <seq>, 'offset': <seconds>}}")
    return exchange


@dataclass
class CassetteWriter:
    """Appends exchanges to a new cassette, one line each, flushed as they come (a crash loses nothing)."""

    path: Path
    upstream: str
    _file: IO[str] | None = field(default=None, init=False, repr=False)
    _tokens: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def open(self) -> CassetteWriter:
        self._file = self.path.open("w", encoding="utf-8")
        self._write({"qolaba_mock_cassette": FORMAT, "upstream": self.upstream})
        return self

    def token_name(self, authorization: str | None) -> tuple[Auth, str | None]:
        """(`bearer`/`other`/None, `t1`...): how a caller authenticated, never with what."""
        if authorization is None:
            return None, None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "other", None
        digest = hmac.new(self._key, token.strip().encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
        with self._lock:
            if digest not in self._tokens and len(self._tokens) >= MAX_TOKEN_NAMES:
                return "bearer", "t+"  # one more token among too many to tell apart
            name = self._tokens.setdefault(digest, f"t{len(self._tokens) + 1}")
        return "bearer", name

    def write(self, exchange: Exchange) -> None:
        self._write(exchange.to_dict())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _write(self, line: dict[str, Any]) -> None:
        text = json.dumps(line, ensure_ascii=False, separators=(", ", ": "))
        with self._lock:
            assert self._file is not None, "open() the writer first"
            self._file.write(text + "\n")
            self._file.flush()


def _pixels(raw: bytes) -> dict[str, int]:
    # The recorded size is what replay serves; Pillow reads only the header here.
    try:
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as image:
            return {"width": image.width, "height": image.height}
    except Exception:  # not an image Pillow knows: size unknown, bytes still counted
        return {}
