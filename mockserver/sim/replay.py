"""Replay: the fake answers recorded requests as they were answered (`serve --replay FILE.jsonl`).

A request matches a recorded one by method, path, whether (and how) it was authenticated, and body, less the
body fields `ignore` names (what varies from call to call: a seed, a nonce; none by default). The
first match gets the first recorded answer, the next the next, and once they run out the last one again,
whatever it was (auth failures included). A recorded queued task replays its own timeline on the fake's
clock under a fresh task id: PENDING until the offset at which the recording saw it end, then its
final answer. Output URLs in recorded answers are served by the fake, as images of the requested size.
Anything unmatched falls back to the model, or, with `strict`, answers a 404 naming what was not found.
"""

from __future__ import annotations

import json
import random
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import orjson

from contracts.cassette.ignored_fields import Pointer, parse_ignored, without
from contracts.cassette.jsonl import Cassette, Exchange, collector_paused
from contracts.spec.schema import STATUS, SUBMIT, base_path, operation_of, operation_path
from contracts.spec.statuses import is_queued, is_terminal, shows_end
from contracts.spec.strict_json import InvalidJson, parse_value
from mockserver.sim.outputs import OutputStore, new_uuid
from mockserver.wire import envelope
from mockserver.wire.envelope import Reply
from mockserver.wire.images import OutputImage, OutputStyle, digest, floor_to_multiple_of_8

# Recorded response headers a replayed answer carries (the content type is the transport's).
_REPLAYED_HEADERS = ("retry-after", "www-authenticate", "allow")
# Answers HTTP forbids a body in, whatever the recording holds.
_BODILESS = (204, 304)


@dataclass(frozen=True)
class Incoming:
    """The request a replay is asked to answer: what it is matched on (the body as it came, undecoded)."""

    method: str
    path: str
    authorization: str | None
    body: bytes


@dataclass(frozen=True)
class Venue:
    """Where and when a replayed answer is given: the namespace's time and randomness (a fresh task id), and
    where the output images its URLs name are published (the fake's base URL, its store, the profile's style)."""

    now: float
    rng: random.Random
    base_url: str
    outputs: OutputStore
    style: OutputStyle


@dataclass
class _Task:
    """A recorded task replaying under a fresh id since `started` (simulated seconds)."""

    submit: Exchange
    recorded_id: str
    started: float
    polls: list[Exchange]

    def answer_at(self, elapsed: float) -> Exchange | None:
        """The recorded poll a client polling `elapsed` seconds after the submit gets: the final answer once its
        offset has passed, else the last PENDING answer recorded by then (or the first), None if none was."""
        final = next((p for p in self.polls if _is_final(p)), None)
        pending = [p for p in self.polls if not _is_final(p)]
        if final is not None and elapsed >= final.task["offset"]:  # type: ignore[index]
            # A PENDING answer recorded at the same instant still comes first: the order is what was seen.
            seen_pending = [p.task["offset"] for p in pending if p.seq < final.seq]  # type: ignore[index]
            if not seen_pending or elapsed > max(seen_pending):
                return final
        before = [p for p in pending if p.task["offset"] <= elapsed]  # type: ignore[index]
        return before[-1] if before else (pending[0] if pending else None)


@dataclass
class Replay:
    cassette: Cassette
    source: str
    strict: bool = False
    max_tasks: int = 10_000  # replayed tasks kept; past it the oldest is forgotten and reads PENDING, as in the store
    # Request body fields not matched on: names or JSON pointers (contracts/cassette/ignored_fields.py).
    ignore: tuple[str, ...] = ()
    _ignored: tuple[Pointer, ...] = field(default=(), init=False, repr=False)
    _queues: dict[tuple[str, ...], list[Exchange]] = field(default_factory=dict, init=False)
    _used: dict[tuple[str, ...], int] = field(default_factory=dict, init=False)
    _tasks: OrderedDict[str, _Task] = field(default_factory=OrderedDict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        self._ignored = parse_ignored(self.ignore)
        with collector_paused():
            for exchange in self.cassette.exchanges:
                if exchange.task is None:  # a poll belongs to its task's timeline, not to the matching
                    key = _key(exchange.method, exchange.path, exchange.auth, without(_body(exchange), self._ignored))
                    self._queues.setdefault(key, []).append(exchange)

    def answer(self, incoming: Incoming, venue: Venue) -> Reply | None:
        """The recorded answer to `incoming`, given at `venue`; None when no recording matches (then: the model
        or a 404)."""
        body = _decoded(incoming.body)
        with self._lock:
            polled = isinstance(body, dict) and operation_of(incoming.path) == STATUS
            task = self._tasks.get(str(body["id"])) if polled and "id" in body else None
            if task is not None:
                return self._poll(task, str(body["id"]), venue)
            key = _key(incoming.method, incoming.path, _auth(incoming.authorization), without(body, self._ignored))
            queue = self._queues.get(key)
            if not queue:
                return None
            used = self._used.get(key, 0)
            recorded = queue[min(used, len(queue) - 1)]
            self._used[key] = used + 1
            reply_body = recorded.response.json if recorded.response.is_json else None
            if _queued(recorded):
                fresh = new_uuid(venue.rng)
                old = str(reply_body["task_id"])  # type: ignore[index]
                polls = sorted(self.cassette.polls_of(recorded), key=lambda p: p.task["offset"])  # type: ignore[index]
                self._tasks[fresh] = _Task(recorded, old, venue.now, polls)
                if len(self._tasks) > self.max_tasks:
                    self._tasks.popitem(last=False)
                return self._reply(recorded, _swapped(reply_body, old, fresh), venue, recorded)
            return self._reply(recorded, reply_body, venue, recorded)

    def unmatched(self, method: str, path: str) -> Reply:
        detail = f"No exchange in {self.source} matches {method} {path} with this body and authentication."
        if self.ignore:
            detail += f" Not matched on: {', '.join(self.ignore)}."
        return Reply(404, envelope.failed(error="No Recorded Exchange", error_data=detail))

    def _poll(self, task: _Task, fresh: str, venue: Venue) -> Reply:
        recorded = task.answer_at(venue.now - task.started)
        if recorded is None:
            return Reply(200, envelope.pending_status(task_id=fresh, echo={"task_id": fresh, "ref_id": ""}))
        reply_body = recorded.response.json if recorded.response.is_json else None
        return self._reply(recorded, _swapped(reply_body, task.recorded_id, fresh), venue, task.submit)

    def _reply(self, recorded: Exchange, body: Any, venue: Venue, submit: Exchange) -> Reply:
        if isinstance(body, dict):
            body = _served_here(body, venue, submit)
        elif body is None:
            body = {"text": recorded.response.text} if recorded.response.text else {}
        headers = {name: value for name, value in recorded.headers.items() if name in _REPLAYED_HEADERS}
        if recorded.status in _BODILESS:
            return Reply(recorded.status, {}, headers=headers, fault="replay", raw=b"")
        # A sync generation is held as long as it was recorded taking; anything else (a refusal, a poll, a queued
        # submit) answers at once: its recorded time was the network's, not the backend's work.
        delay = recorded.seconds if _generated(recorded) else 0.0
        return Reply(recorded.status, body, delay=delay, headers=headers, fault="replay")


def _served_here(body: dict[str, Any], venue: Venue, submit: Exchange) -> dict[str, Any]:
    # Output URLs point at the recording's host (production's CDN): the fake publishes an image of the requested
    # size under the same file name and answers its own URL instead.
    output = body.get("output")
    if not isinstance(output, dict):
        return body
    request = submit.request.json if submit.request.is_json and isinstance(submit.request.json, dict) else {}
    width, height = (_side(request.get(name)) for name in ("width", "height"))
    served = dict(output)
    for key, spec in (("result", venue.style.full), ("low_res_urls", venue.style.low_res)):
        urls = output.get(key)
        if isinstance(urls, list):
            served[key] = [_publish(url, width, height, spec, venue) for url in urls]
    return {**body, "output": served}


def _publish(url: Any, width: int, height: int, spec: Any, venue: Venue) -> Any:
    if not isinstance(url, str):
        return url
    name = url.rstrip("/").rsplit("/", 1)[-1]
    image = OutputImage(width, height, digest(url), digest(url, 1), spec)
    return venue.outputs.publish(venue.base_url, f"replay/{name}", image)


def _side(value: Any) -> int:
    # The requested side as production floors it; 1024 when the recording does not say.
    side = floor_to_multiple_of_8(int(value)) if isinstance(value, int | float) and 0 < value < 1e6 else 0
    return side or 1024


def _key(method: str, path: str, auth: str | None, body: Any) -> tuple[str, ...]:
    operation_id = operation_of(path)
    path = operation_path(operation_id) if operation_id else path.removeprefix(base_path())
    return (method.upper(), path, str(auth), _canonical(body))


def _canonical(body: Any) -> str:
    # orjson: a cassette of 100,000 exchanges is keyed in a tenth of the time json.dumps takes.
    try:
        return orjson.dumps(body, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError:  # an integer past 64 bits, which only the standard library writes
        return json.dumps(body, sort_keys=True)


def _auth(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return "bearer" if scheme.lower() == "bearer" and token.strip() else "other"


def _body(exchange: Exchange) -> Any:
    return exchange.request.json if exchange.request.is_json else exchange.request.text


def _decoded(raw: bytes) -> Any:
    # Read as the recorder read it (contracts.cassette.jsonl.Message.of): JSON the fake reads, else the text.
    if not raw:
        return None
    try:
        return parse_value(raw)
    except InvalidJson:
        return raw.decode("utf-8", "replace")


def _queued(exchange: Exchange) -> bool:
    return is_queued(exchange.response.json if exchange.response.is_json else None)


def _generated(exchange: Exchange) -> bool:
    sync_submit = exchange.task is None and operation_of(exchange.path) == SUBMIT
    return sync_submit and is_terminal(exchange.response.json if exchange.response.is_json else None)


def _is_final(poll: Exchange) -> bool:
    # A gateway's 429/502/503/504 on a recorded poll says nothing of the task: the recording polled on.
    return shows_end(poll.status, poll.response.json if poll.response.is_json else None)


def _swapped(value: Any, old: str, new: str) -> Any:
    """`value` with every string equal to the recorded task id replaced by the fresh one."""
    if isinstance(value, dict):
        return {key: _swapped(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_swapped(item, old, new) for item in value]
    return new if value == old else value
