"""Reading HAR 1.2 (and 1.1): what browsers' devtools, mitmproxy, Charles, Postman and `st run --report har` write.

Each entry is an `Interaction` (contracts/cassette/interactions.py, which keeps the API's calls): the request's
method, URL, headers and `postData`, the answer's status, headers and `content` (base64 when `encoding` says
so; a browser may keep no content at all, then an image keeps its `size`), `startedDateTime` and `time` (ms).
The writer is contracts/cassette/har_writer.py; the custom `_qolaba_mock` field it adds is read back.

Usage:
    cassette = read_har(json.loads(Path("devtools.har").read_bytes()), source="devtools.har")
"""

from __future__ import annotations

from typing import Any

from contracts.cassette.document import Reader, decoded, timestamp
from contracts.cassette.har_writer import CUSTOM
from contracts.cassette.interactions import Interaction, build_cassette
from contracts.cassette.jsonl import Cassette, CassetteError

READ_VERSIONS = ("1.1", "1.2")


def read_har(document: Any, *, source: str, max_seconds: float | None = None) -> Cassette:
    """The API's calls in a parsed HAR document; CassetteError names `source` and the entry at fault."""
    log = Reader(document, f"{source}:").child("log")
    version = log.get("version", str, "1.2")
    if version not in READ_VERSIONS:
        raise CassetteError(f"{source}: HAR version {version!r}; qolaba-mock reads HAR {' and '.join(READ_VERSIONS)}")
    entries = log.get("entries", list, required=True)
    interactions = [_interaction(entry, f"{source}: entry {n}") for n, entry in enumerate(entries, 1)]
    return build_cassette(interactions, source=source, kind="HAR", max_seconds=max_seconds)


def _interaction(data: Any, where: str) -> Interaction:
    entry = Reader(data, where)
    request, response = entry.child("request"), entry.child("response")
    post = request.child("postData", required=False)
    content = response.child("content", required=False)
    text = content.get("text", str)
    custom = entry.get(CUSTOM, dict)
    milliseconds = entry.get("time", (int, float), 0)
    return Interaction(
        where=where.partition(": ")[2],
        method=request.get("method", str, required=True),
        url=request.get("url", str, required=True),
        request_headers=_headers(request),
        request_body=decoded(post.get("text", str, ""), post.get("encoding", str), f"{post.where}.text"),
        request_type=post.get("mimeType", str),
        status=response.get("status", int, required=True),
        response_headers=_headers(response),
        response_body=None if text is None else decoded(text, content.get("encoding", str), f"{content.where}.text"),
        response_type=content.get("mimeType", str, ""),
        response_size=content.get("size", int),
        started=timestamp(entry.get("startedDateTime", str, required=True), f"{where}.startedDateTime"),
        seconds=max(float(milliseconds), 0.0) / 1000,
        custom=custom,
    )


def _headers(message: Reader) -> tuple[tuple[str, str], ...]:
    headers = message.get("headers", list, [])
    pairs = []
    for index, header in enumerate(headers):
        named = Reader(header, f"{message.where}.headers[{index}]")
        pairs.append((named.get("name", str, required=True), named.get("value", str, "")))
    return tuple(pairs)
