"""The journal keeps bytes within its bounds, reads back whatever was sent, pages, never lags its answers,
and reads like respx's CallList."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import httpx
import pytest

from mockserver import Config, VirtualClock, create_app
from mockserver.server.live_server import LiveServer
from mockserver.sim.journal import Body, Entry, Headers, Journal, kept_headers
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio

SECRET_AUTH = {"Authorization": "Bearer sk-secret-1"}


def entry(seq: int, request: bytes = b"{}", path: str = "/getImage") -> Entry:
    body = Body(request, len(request), "application/json")
    return Entry(seq, "default", 0.0, 0.0, "POST", path, 200, None, None, body, Body())


def test_the_journal_forgets_the_oldest_entries_beyond_its_byte_bound() -> None:
    journal = Journal(max_entries=1000, max_bytes=10_000)
    for seq in range(1, 51):
        journal.record(entry(seq, b"x" * 1000))

    assert journal.bytes <= 10_000
    assert [e.seq for e in journal][-1] == 50 and len(journal) < 50


def test_the_journal_forgets_the_oldest_entries_beyond_its_entry_bound() -> None:
    journal = Journal(max_entries=3, max_bytes=1 << 20)
    for seq in range(1, 6):
        journal.record(entry(seq))

    assert [e.seq for e in journal] == [3, 4, 5]


def test_a_body_is_kept_up_to_the_bound_and_read_back_marked_as_cut() -> None:
    body = Body(b'{"prompt": "aaaa', 5000, "application/json")

    assert body.truncated
    assert body.readable() == '{"prompt": "aaaa… (5000 bytes in all)'


@pytest.mark.parametrize(
    ("raw", "readable"),
    [
        (b'{"id": "x"}', {"id": "x"}),
        (b'{"a": NaN}', '{"a": NaN}'),
        (b'{"id": "\\ud800"}', '{"id": "\\ud800"}'),
        (b"[" * 1000 + b"]" * 1000, "[" * 1000 + "]" * 1000),
        (b"\xff\xfe", "\ufffd\ufffd"),
        (b"", None),
    ],
)
def test_any_body_reads_back_as_json_or_text(raw: bytes, readable: object) -> None:
    assert Body(raw, len(raw), "application/json").readable() == readable


async def test_the_journal_reads_back_after_deep_nan_and_surrogate_bodies() -> None:
    app = create_app(Config(), clock=VirtualClock())
    bodies = [b'{"x": ' + b"[" * 990 + b"]" * 990 + b"}", b'{"batch": NaN}', b'{"id": "\\ud800"}', b"[" * 5000]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as client:
        codes = [(await client.post("/getImagetoImage", content=raw)).status_code for raw in bodies]
        journal = await client.get("/__admin/journal")

    assert codes == [400, 400, 400, 400]
    assert journal.status_code == 200
    assert [e["request_bytes"] for e in journal.json()["entries"]] == [len(raw) for raw in bodies]


async def test_large_bodies_are_kept_only_up_to_journal_body_bytes() -> None:
    app = create_app(Config(journal_body_bytes=100), clock=VirtualClock())
    prompt = "p" * 10_000
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as client:
        await client.post("/getImagetoImage", json=valid_body(prompt=prompt))

    (kept,) = app.state.backend.default.journal
    assert len(kept.request.kept) == 100 and kept.request.size > 10_000
    assert len(kept.response.kept) == 100 and kept.response.size > 10_000
    assert kept.status == 200


async def test_the_journal_pages_oldest_first_from_a_cursor() -> None:
    app = create_app(Config(), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as client:
        for index in range(7):
            await client.post("/getImage", json={"id": f"task-{index}"})
        pages, after, more = [], 0, True
        while more:
            page = (await client.get("/__admin/journal", params={"after": after, "limit": 3})).json()
            pages.append([e["request_body"]["id"] for e in page["entries"]])
            after, more = page["next_after"], page["more"]

    assert pages == [["task-0", "task-1", "task-2"], ["task-3", "task-4", "task-5"], ["task-6"]]


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "limit=x", "after=-1", "after=1e3", "limit=" + "9" * 40])
async def test_bad_journal_page_parameters_are_refused_naming_them(query: str) -> None:
    app = create_app(Config(), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(f"/__admin/journal?{query}")

    assert response.status_code == 422
    assert response.json()["error_data"][0]["field"] == query.partition("=")[0]


@pytest.fixture
def switching_often() -> Iterator[None]:
    # Threads switch after every few bytecodes, so a reader runs as soon as the answer is out.
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("switching_often")
def test_a_call_is_in_the_journal_before_its_answer_reaches_the_client() -> None:
    with LiveServer(Config()) as server, httpx.Client(base_url=server.url, headers=AUTH) as client:
        journal = server.app.state.backend.default.journal
        for index in range(200):
            client.post("/getImage", json={"id": f"call-{index}"})
            assert journal.calls_to("/getImage")[-1].request_body == {"id": f"call-{index}"}


def test_a_page_stops_early_past_its_byte_bound_yet_holds_at_least_one_entry() -> None:
    journal = Journal(max_entries=100, max_bytes=1 << 20)
    for seq in range(1, 11):
        journal.record(entry(seq, b"x" * 1000))

    two, more = journal.page(limit=100, max_bytes=2 * entry(0, b"x" * 1000).size)
    one, _ = journal.page(limit=100, max_bytes=10)

    assert [e.seq for e in two] == [1, 2] and more
    assert [e.seq for e in one] == [1]


async def test_the_journal_reads_like_respx_call_list() -> None:
    app = create_app(Config(), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as client:
        await client.post("/getImagetoImage", json=valid_body(celery=True))
        for index in range(3):
            await client.post("/getImage", json={"id": f"task-{index}"})
    journal = app.state.backend.default.journal
    polls = journal.calls_to("/getImage")

    assert journal[0].path == "/getImagetoImage" and journal[-1].request_body == {"id": "task-2"}
    assert len(journal) == journal.call_count == 4 and journal.called
    assert [e.seq for e in journal] == [1, 2, 3, 4] and [e.seq for e in reversed(journal)] == [4, 3, 2, 1]
    assert journal.last is journal[-1] and journal[1:3] == [journal[1], journal[2]]
    assert polls.call_count == 3 and polls.last.request_body == {"id": "task-2"}
    assert polls[0].request_body == {"id": "task-0"} and polls[1:].calls_to("/getImage").call_count == 2
    assert not journal.calls_to("/outputs").called


def test_an_empty_journal_says_there_is_no_call_rather_than_failing_on_the_index() -> None:
    journal = Journal(max_entries=10, max_bytes=1 << 20)

    with pytest.raises(IndexError, match="no call recorded"):
        _ = journal.last
    with pytest.raises(IndexError, match=r"journal index 0 out of range: 0 call\(s\) recorded"):
        _ = journal[0]
    assert journal.call_count == 0 and not journal.called and list(journal.calls_to("/getImage")) == []


async def test_response_headers_are_journalled_and_shown_by_the_admin_journal() -> None:
    app = create_app(Config(tokens=frozenset({"sk-secret-1"})), clock=VirtualClock())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        await client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "http_429", **SECRET_AUTH})
        await client.post("/getImage", json={"id": "x"})
        page = (await client.get("/__admin/journal", headers=SECRET_AUTH)).json()

    limited, refused = app.state.backend.default.journal
    assert (
        limited.response_header("retry-after") == "2" and limited.response_header("Content-Type") == "application/json"
    )
    assert refused.response_header("WWW-Authenticate") == "Bearer"
    assert page["entries"][0]["response_headers"]["retry-after"] == "2"
    assert page["entries"][1]["response_headers"]["www-authenticate"] == "Bearer"
    assert "sk-secret-1" not in repr(page)


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ([("Retry-After", "2")], (("retry-after", "2"),)),
        ([("Set-Cookie", "session=sk-secret-1")], (("set-cookie", "[Filtered]"),)),
        ([("Authorization", "Bearer abc")], (("authorization", "[Filtered]"),)),
        ([("X-Echo", "Bearer sk-secret-1, sk-secret-10")], (("x-echo", "Bearer [Filtered], sk-secret-10"),)),
        ([("Content-Type", "text/plain")], (("content-type", "text/plain"),)),
    ],
)
def test_journalled_headers_never_hold_the_callers_token(raw: list[tuple[str, str]], kept: Headers) -> None:
    assert kept_headers(raw, secrets=("sk-secret-1", "t")) == kept


def test_response_headers_count_in_the_journals_byte_bound() -> None:
    journal = Journal(max_entries=1000, max_bytes=10_000)
    for seq in range(1, 51):
        journal.record(entry(seq)._replace(response_headers=(("x-padding", "h" * 1000),)))

    assert journal.bytes <= 10_000 and len(journal) < 50
    assert journal.last.seq == 50
