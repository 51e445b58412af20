"""Another tool's recording made ours: HTTP interactions (HAR entries, VCR interactions) become exchanges.

Only calls to the API are kept: the two operations, at their paths or under the production prefix
(`/api/v1/studio`), on the host of the first such call, and the output images their answers named. Anything
else (other hosts, other paths, requests that got no answer) is skipped and counted in a note. Each kept call
becomes a line of our own format and is checked as one (contracts/cassette/line_rules.py), so a HAR or VCR
file is held to the same rules as a cassette of ours, and a bad value is named with its entry.

The `Authorization` header is read once, here, and dropped: what stays is whether a bearer token was sent and
which one (`t1`, `t2`, ..., contracts/cassette/token_names.py). A poll is linked to the submit that queued its
task by the task id, and timed from the recording's timestamps; a recording without them (VCR.py's) is taken
in order, one second apart, and a note says so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from contracts.cassette.jsonl import KEPT_HEADERS, Cassette, CassetteError, Exchange, Message, exchange_from_line
from contracts.cassette.line_rules import LineError
from contracts.cassette.token_names import TokenNames
from contracts.spec.schema import STATUS, SUBMIT, base_path, served_paths

# Seconds between two exchanges of a recording that keeps no time.
UNTIMED_STEP = 1.0


@dataclass(frozen=True)
class Interaction:
    """One HTTP request and its answer as another tool recorded them, before anything of ours is made of them."""

    where: str  # how an error names it: "entry 12", "interaction 3"
    method: str
    url: str
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int
    response_headers: tuple[tuple[str, str], ...]
    # None when the recording kept no body (a browser HAR saved without content); then `response_size` if known.
    response_body: bytes | None
    response_type: str = ""
    response_size: int | None = None
    request_type: str | None = None  # a HAR's postData.mimeType, when no Content-Type header says it
    started: float | None = None  # seconds since the epoch; None when the recording keeps no time
    seconds: float = 0.0
    # The `_qolaba_mock` field of a HAR we wrote: what HAR cannot say (seq, task link, image size, notes).
    custom: dict[str, Any] | None = None

    def header(self, name: str, *, response: bool = False) -> str | None:
        headers = self.response_headers if response else self.request_headers
        return next((value for key, value in headers if key.lower() == name), None)


def build_cassette(
    interactions: Sequence[Interaction], *, source: str, kind: str, max_seconds: float | None
) -> Cassette:
    """The API calls among `interactions` as a Cassette; CassetteError names `source` and the entry at fault."""
    builder = _Builder(source, max_seconds, _upstream(interactions))
    for interaction in interactions:
        try:
            builder.add(interaction)
        except LineError as exc:
            raise CassetteError(f"{source}: {interaction.where}: {exc}") from None
    if not builder.exchanges:
        raise CassetteError(
            f"{source}: none of its {builder.total} {kind} {'entries' if kind == 'HAR' else 'interactions'} is a call "
            "to the API "
            f"(POST {' or '.join(_paths())}, also under {base_path()}){builder.skipped_text(': ')}"
        )
    notes = [f"{source}: skipped {builder.skipped_text()}"] if builder.skipped else []
    if builder.untimed:
        notes.append(f"{source}: {kind} keeps no timestamps: its exchanges are taken in order, one second apart")
    return Cassette(
        upstream=builder.upstream or "",
        exchanges=tuple(builder.exchanges),
        notes=tuple(notes),
        held_credentials=builder.tokens.held_credentials,
    )


class _Builder:
    def __init__(self, source: str, max_seconds: float | None, upstream: str | None) -> None:
        self.source, self.max_seconds, self.upstream = source, max_seconds, upstream
        self.tokens = TokenNames()
        self.exchanges: list[Exchange] = []
        self.seen: set[int] = set()
        self.skipped: Counter[str] = Counter()
        self.total = 0
        self.first: float | None = None
        self.untimed = False
        self.tasks: dict[str, tuple[int, float]] = {}  # task id -> (seq of its submit, its `at`)
        self.outputs: set[str] = set()  # output image URLs the answers so far named

    def add(self, interaction: Interaction) -> None:
        self.total += 1
        path = self._path(interaction)
        if path is None:
            return
        if interaction.status == 0 or 100 <= interaction.status < 200:
            # A browser writes 0 for a request that got no answer (blocked, cancelled); 1xx is never final.
            self.skipped[f"no final answer (status {interaction.status})"] += 1
            return
        custom = interaction.custom or {}
        line = self._line(interaction, path, custom)
        exchange = exchange_from_line(line, self.max_seconds, self.seen)
        self.exchanges.append(exchange)
        self._remember(exchange)

    def skipped_text(self, lead: str = "") -> str:
        if not self.skipped:
            return ""
        return lead + ", ".join(f"{count} {why}" for why, count in sorted(self.skipped.items()))

    def _path(self, interaction: Interaction) -> str | None:
        """The exchange's path on the upstream, or None (counted) when it is no call to the API."""
        if interaction.method.upper() == "GET" and interaction.url in self.outputs:
            return urlsplit(interaction.url).path  # an output image an earlier answer named, wherever it is
        origin, path = _api_call(interaction.url)
        if origin != _origin(self.upstream):
            self.skipped["on other hosts"] += 1
            return None
        if path is None:
            self.skipped["to other paths"] += 1
        return path

    def _line(self, interaction: Interaction, path: str, custom: dict[str, Any]) -> dict[str, Any]:
        seq = custom.get("seq", len(self.exchanges) + 1)
        at = self._at(interaction)
        auth, token = self.tokens.of(interaction.header("authorization"))
        sent_type = interaction.header("content-type") or interaction.request_type
        steering = {k.lower(): v for k, v in interaction.request_headers if k.lower().startswith("x-mock-")}
        request = Message.of(interaction.request_body, sent_type or "").sent_with(sent_type, steering)
        request_note = custom.get("request_note")
        line: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "method": interaction.method.upper(),
            "path": path,
            "auth": auth,
            "token": token,
            "request": {**request.to_dict(), **({"note": request_note} if request_note else {})},
            "response": {
                "status": interaction.status,
                "headers": _kept(interaction.response_headers),
                **self._response(interaction, custom).to_dict(),
            },
            "seconds": round(max(interaction.seconds, 0.0), 3),
        }
        task = custom["task"] if "task" in custom else self._task(path, request, at)
        if task is not None:
            line["task"] = task
        return line

    def _at(self, interaction: Interaction) -> float:
        if interaction.started is None:
            self.untimed = True
            return len(self.exchanges) * UNTIMED_STEP
        self.first = interaction.started if self.first is None else self.first
        # A recording's entries may be out of order (HAR sorts by nothing): no exchange is before the first.
        return round(max(interaction.started - self.first, 0.0), 6)

    def _response(self, interaction: Interaction, custom: dict[str, Any]) -> Message:
        media_type = interaction.header("content-type", response=True) or interaction.response_type
        if interaction.response_body is not None:
            message = Message.of(interaction.response_body, media_type)
            if message.image is not None and "image" in custom:
                return Message(image=custom["image"])  # a HAR we wrote: the bytes are gone, the size is not
            return message
        if media_type.startswith("image/"):
            image = custom.get("image") or {"media_type": media_type.partition(";")[0].strip()}
            if "bytes" not in image and interaction.response_size is not None and interaction.response_size >= 0:
                image = {**image, "bytes": interaction.response_size}
            return Message(image=image)
        return Message(note=custom.get("response_note") or "The recording kept no body for this answer.")

    def _task(self, path: str, request: Message, at: float) -> dict[str, Any] | None:
        body = request.json if request.is_json else None
        if path not in served_paths(STATUS) or not isinstance(body, dict):
            return None
        queued = self.tasks.get(str(body.get("id")))
        return None if queued is None else {"submit": queued[0], "offset": round(at - queued[1], 6)}

    def _remember(self, exchange: Exchange) -> None:
        body = exchange.response.json if exchange.response.is_json else None
        if not isinstance(body, dict):
            return
        task_id = body.get("task_id")
        if exchange.path in served_paths(SUBMIT) and body.get("status") == "PENDING" and isinstance(task_id, str):
            self.tasks[task_id] = (exchange.seq, exchange.at)
        output = body.get("output")
        for key in ("result", "low_res_urls"):
            urls = output.get(key) if isinstance(output, dict) else None
            if isinstance(urls, list):
                self.outputs.update(url for url in urls if isinstance(url, str))


def _upstream(interactions: Sequence[Interaction]) -> str | None:
    """The base URL of the first call to the API: its origin, and the production prefix if it was used."""
    for interaction in interactions:
        origin, path = _api_call(interaction.url)
        if path is not None:
            prefixed = urlsplit(interaction.url).path != path
            return origin + (base_path() if prefixed else "")
    return None


def _api_call(url: str) -> tuple[str, str | None]:
    """(the URL's origin, the operation's path if the URL calls one, at its path or under the production prefix)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"  # never a user:password@ a URL carried
    path = parts.path.removeprefix(base_path()) if parts.path.startswith(base_path() + "/") else parts.path
    return origin, path if path in _paths() else None


def _origin(upstream: str | None) -> str | None:
    if upstream is None:
        return None
    return "{0.scheme}://{0.netloc}".format(urlsplit(upstream))


def _paths() -> tuple[str, ...]:
    return (*served_paths(SUBMIT), *served_paths(STATUS))


def _kept(headers: tuple[tuple[str, str], ...]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers if name.lower() in KEPT_HEADERS}
