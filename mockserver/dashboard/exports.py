"""The journal as a recording: HAR 1.2 for browsers' devtools and HAR viewers, and a cassette of ours that
`serve --replay` and `diff --cassette` read.

Journal entries go through the same door as any other tool's recording (contracts/cassette/interactions.py):
calls to the API are kept, polls are linked to their submits, and the writers are the cassette package's own.
The journal never held a token: `Authorization` stands for each caller by its keyed hash, so the callers stay
apart (`t1`, `t2`) and nothing secret reaches the file. What the journal does not keep cannot be exported:
request headers other than the body's type and the X-Mock-* steering, and image bytes (their size stays).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from contracts.cassette.har_writer import to_har
from contracts.cassette.interactions import Interaction, build_cassette
from contracts.cassette.jsonl import Cassette, CassetteError
from contracts.cassette.jsonl_writer import encode_line
from contracts.cassette.line_rules import FORMAT
from mockserver.sim.journal import Entry


def interactions(entries: Iterable[Entry], upstream: str) -> list[Interaction]:
    """The answered entries as interactions under `upstream` (the fake's base URL as the browser reached it)."""
    base = upstream.rstrip("/")
    found = []
    for entry in entries:
        if entry.status is None:
            continue  # no answer reached the client: nothing a recording could hold
        request_headers = [("content-type", entry.request.media_type)] if entry.request.media_type else []
        if entry.token_id is not None:
            request_headers.append(("authorization", f"Bearer {entry.token_id}"))
        request_headers += entry.steering  # a diff sends them again
        image = entry.response.media_type.startswith("image/")
        found.append(
            Interaction(
                where=f"journal entry {entry.seq}",
                method=entry.method,
                url=base + entry.path,
                request_headers=tuple(request_headers),
                request_body=entry.request.kept,
                status=entry.status,
                response_headers=entry.response_headers,
                response_body=None if image or entry.response.truncated else entry.response.kept,
                response_type=entry.response.media_type,
                response_size=entry.response.size,
                started=entry.started_at,
                seconds=max(0.0, entry.finished_at - entry.started_at),
            )
        )
    return found


def cassette_of(entries: Iterable[Entry], upstream: str) -> Cassette | None:
    """The entries' calls to the API as a cassette, or None when there are none."""
    try:
        return build_cassette(interactions(entries, upstream), source="the journal", kind="journal", max_seconds=None)
    except CassetteError:
        return None


def har_document(cassette: Cassette | None, started: float | None) -> dict[str, object]:
    """HAR 1.2; `started` (seconds since the epoch) dates the first exchange, when the clock is the system's."""
    when = datetime.fromtimestamp(started, UTC) if started is not None else None
    exchanges = cassette.exchanges if cassette is not None else ()
    upstream = cassette.upstream if cassette is not None and cassette.upstream else "http://127.0.0.1:8000"
    return to_har(exchanges, upstream=upstream, started=when)


def cassette_lines(cassette: Cassette | None, upstream: str) -> Iterator[str]:
    """Our cassette format, line by line: the header, then one line per exchange."""
    yield encode_line({"qolaba_mock_cassette": FORMAT, "upstream": cassette.upstream if cassette else upstream})
    for exchange in cassette.exchanges if cassette is not None else ():
        yield encode_line(exchange.to_dict())
