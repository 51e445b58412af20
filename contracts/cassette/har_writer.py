"""Writing HAR 1.2: any recording as an HTTP Archive that browsers' devtools, Charles or Postman open.

Each exchange becomes one entry, with what a HAR can say: method, URL, the request's Content-Type and body,
the answer's status, kept headers and body, the start time and duration. A token is never there (a recording
never holds one): the `Authorization` header says `Bearer [redacted t1]`, so the callers stay apart and
reading the file back names them as before. What a HAR has no field for goes in the entry's custom
`_qolaba_mock` field (HAR 1.2 allows fields starting with `_`): the exchange's `seq`, a poll's task link, an
image's pixel size, why a body was kept as text. Every entry has what Chromium's importer requires
(`startedDateTime`, `time`, `timings.send/wait/receive`, `headersSize`, `bodySize`, `content.size`).

Usage:
    har = to_har(cassette.exchanges, upstream=cassette.upstream)        # a dict, for json.dumps
    write_har("prod.har", cassette.exchanges, upstream=cassette.upstream)  # streamed, entry by entry
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

from contracts.cassette.jsonl import Exchange
from contracts.cassette.jsonl_writer import encode_line
from contracts.cassette.token_names import redacted

HAR_VERSION = "1.2"
# Where an exchange went when nothing says otherwise: the fake's default address.
DEFAULT_UPSTREAM = "http://127.0.0.1:8000"
# The custom entry field (HAR 1.2: custom fields start with "_") holding what HAR itself cannot say.
CUSTOM = "_qolaba_mock"


def to_har(
    exchanges: Iterable[Exchange],
    *,
    creator: str = "qolaba-mock",
    upstream: str = DEFAULT_UPSTREAM,
    started: datetime | None = None,
) -> dict[str, Any]:
    """The exchanges as a HAR 1.2 document: `{"log": {"version": "1.2", "creator": ..., "entries": [...]}}`.

    `upstream` is the base URL the paths were called under; `started` the wall time of the first exchange
    (`at` 0; default: now), since our recordings keep only the seconds between exchanges.
    """
    start = started or datetime.now(UTC)
    return {"log": {**_log_head(creator), "entries": [har_entry(e, upstream, start) for e in exchanges]}}


def write_har(
    path: str | Path,
    exchanges: Iterable[Exchange],
    *,
    creator: str = "qolaba-mock",
    upstream: str = DEFAULT_UPSTREAM,
    started: datetime | None = None,
) -> int:
    """Write the exchanges to `path` as HAR 1.2, one entry at a time (memory stays that of one entry); the
    number of entries written."""
    start = started or datetime.now(UTC)
    count = 0
    with Path(path).open("w", encoding="utf-8") as out:
        head = json.dumps({"log": _log_head(creator)}, ensure_ascii=False)
        out.write(head[:-2] + ', "entries": [\n')  # the head without its two closing braces
        for count, line in enumerate(_entry_lines(exchanges, upstream, start), start=1):
            out.write(line if count == 1 else ",\n" + line)
        out.write("\n]}}\n")
    return count


def har_entry(exchange: Exchange, upstream: str, started: datetime) -> dict[str, Any]:
    """One exchange as a HAR entry; `started` is the wall time of `at` 0."""
    milliseconds = round(exchange.seconds * 1000, 3)
    entry: dict[str, Any] = {
        "startedDateTime": (started + timedelta(seconds=exchange.at)).isoformat(timespec="microseconds"),
        "time": milliseconds,
        "request": _request(exchange, upstream),
        "response": _response(exchange),
        "cache": {},
        "timings": {"send": 0, "wait": milliseconds, "receive": 0},
    }
    custom = _custom(exchange)
    if custom:
        entry[CUSTOM] = custom
    return entry


def _log_head(creator: str) -> dict[str, Any]:
    return {
        "version": HAR_VERSION,
        "creator": {"name": creator, "version": _version()},
        "pages": [],
        "comment": "Tokens are not in this file: each Authorization header names its caller, [redacted t1].",
    }


def _entry_lines(exchanges: Iterable[Exchange], upstream: str, started: datetime) -> Iterator[str]:
    for exchange in exchanges:
        yield encode_line(har_entry(exchange, upstream, started)).rstrip("\n")


def _request(exchange: Exchange, upstream: str) -> dict[str, Any]:
    message = exchange.request
    headers = []
    if exchange.auth == "bearer":
        headers.append(_header("Authorization", f"Bearer {redacted(exchange.token)}"))
    elif exchange.auth == "other":
        headers.append(_header("Authorization", f"Basic {redacted(None)}"))
    if message.content_type is not None:
        headers.append(_header("Content-Type", message.content_type))
    headers += [_header(name, value) for name, value in (message.steering or {}).items()]
    raw = message.raw()
    request: dict[str, Any] = {
        "method": exchange.method,
        "url": upstream.rstrip("/") + exchange.path,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": headers,
        "queryString": [],
        "headersSize": -1,
        "bodySize": len(raw),
    }
    if raw:
        mime_type = message.content_type if message.content_type is not None else "application/json"
        request["postData"] = {"mimeType": mime_type, "text": raw.decode("utf-8", "replace"), "params": []}
    return request


def _response(exchange: Exchange) -> dict[str, Any]:
    message = exchange.response
    mime_type = exchange.headers.get("content-type", "")
    content: dict[str, Any]
    if message.image is not None:
        mime_type = mime_type or str(message.image.get("media_type", ""))
        size = int(message.image.get("bytes", 0))
        content = {"size": size, "mimeType": mime_type, "comment": "the image's bytes were not recorded"}
    else:
        raw = message.raw()
        size = len(raw)
        content = {"size": size, "mimeType": mime_type, "text": raw.decode("utf-8", "replace")}
    return {
        "status": exchange.status,
        "statusText": _reason(exchange.status),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [_header(name, value) for name, value in exchange.headers.items()],
        "content": content,
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": size,
    }


def _custom(exchange: Exchange) -> dict[str, Any]:
    custom: dict[str, Any] = {"seq": exchange.seq}
    if exchange.task is not None:
        custom["task"] = exchange.task
    if exchange.response.image is not None:
        custom["image"] = exchange.response.image
    for side, message in (("request", exchange.request), ("response", exchange.response)):
        if message.note:
            custom[f"{side}_note"] = message.note
    return custom


def _header(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value}


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qolaba-mock")
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"
