"""Following the contract's link from a queued submit, and polling it to a terminal state on a fake clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts import STATUS, SUBMIT, load_schema
from contracts.client.case_polling import poll_until_terminal
from contracts.client.polling import Link, Poll, PollAnswer, PollSettings, follow_task, httpx_answer, status_link
from tests.conftest import AUTH, valid_body

QUEUED = {
    "time_required": {},
    "error": None,
    "error_data": None,
    "input": {},
    "output": {},
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
    "task_id": "task-1",
    "status": "PENDING",
}


def test_the_status_link_is_read_from_the_contract() -> None:
    link = status_link()
    assert link.operation_id == STATUS
    assert link.request_for({"task_id": "task-1", "status": "PENDING"}) == {"id": "task-1"}


def test_link_pointers_unescape_and_other_expressions_are_refused() -> None:
    assert Link(STATUS, {"id": "$response.body#/a~1b/c~0d"}).request_for({"a/b": {"c~d": 5}}) == {"id": 5}
    with pytest.raises(ValueError, match=r"not a \$response\.body pointer"):
        Link(STATUS, {"id": "$request.body#/id"}).request_for({})


class FakeTime:
    """sleep() moves monotonic() on: polling runs through its deadline without waiting."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def scripted(*answers: Response) -> tuple[Any, Any, list[dict[str, Any]]]:
    """A submit case and its queued answer, from an app whose /getImage plays `answers` in order."""
    script: Iterator[Response] = iter(answers)
    seen: list[dict[str, Any]] = []

    async def submit(request: Request) -> Response:
        return JSONResponse(QUEUED)

    async def status(request: Request) -> Response:
        seen.append({"body": await request.json(), "authorization": request.headers.get("authorization")})
        return next(script)

    schema = schemathesis.openapi.from_dict(load_schema())
    schema.app = Starlette(
        routes=[
            Route("/{p:path}/getImagetoImage", submit, methods=["POST"]),
            Route("/{p:path}/getImage", status, methods=["POST"]),
        ]
    )
    case = schema.find_operation_by_id(SUBMIT).Case(body=valid_body(celery=True), media_type="application/json")
    return case, case.call(headers=AUTH), seen


def envelope(status: str, code: int = 200, **headers: str) -> Response:
    return JSONResponse({**QUEUED, "status": status, "task_id": None}, status_code=code, headers=headers)


def test_polling_follows_the_link_with_the_submits_credentials_until_success() -> None:
    case, response, seen = scripted(envelope("PENDING"), envelope("PENDING"), envelope("SUCCESS"))
    clock = FakeTime()
    poll = poll_until_terminal(case, response, PollSettings(interval=2), sleep=clock.sleep, monotonic=clock.monotonic)
    assert poll.reached_terminal_state and poll.status == "SUCCESS" and poll.polls == 3
    assert clock.sleeps == [2, 2]
    assert seen == [{"body": {"id": "task-1"}, "authorization": AUTH["Authorization"]}] * 3


def test_a_shed_poll_waits_as_long_as_retry_after_says() -> None:
    case, response, _ = scripted(envelope("FAILED", 503, **{"Retry-After": "7"}), envelope("FAILED", 500))
    clock = FakeTime()
    poll = poll_until_terminal(case, response, PollSettings(interval=2), sleep=clock.sleep, monotonic=clock.monotonic)
    assert clock.sleeps == [7]
    assert poll.status == "FAILED" and poll.status_code == 500 and poll.reached_terminal_state


def test_a_refused_poll_ends_at_once() -> None:
    case, response, _ = scripted(JSONResponse({"detail": "Not authenticated"}, status_code=401))
    poll = poll_until_terminal(case, response, PollSettings(), sleep=pytest.fail, monotonic=FakeTime().monotonic)
    assert (poll.status_code, poll.status, poll.reached_terminal_state) == (401, None, False)


def test_a_task_still_pending_at_the_deadline_is_reported_unfinished() -> None:
    case, response, _ = scripted(*(envelope("PENDING") for _ in range(100)))
    clock = FakeTime()
    poll = poll_until_terminal(
        case, response, PollSettings(deadline=10, interval=3), sleep=clock.sleep, monotonic=clock.monotonic
    )
    assert not poll.reached_terminal_state and poll.status == "PENDING"
    assert poll.polls == 4 and clock.now == 9  # polls at 0, 3, 6, 9; a fifth would land after the deadline


@pytest.mark.parametrize(
    "answer",
    [envelope("DONE"), JSONResponse({"detail": "Not Found"}), Response("busy", media_type="text/plain")],
    ids=["undocumented-status", "no-status", "not-json"],
)
def test_an_answer_outside_the_task_lifecycle_ends_the_poll_at_once(answer: Response) -> None:
    # Neither PENDING nor an end: waiting longer cannot make it right, and only delays the report.
    case, response, seen = scripted(envelope("PENDING"), answer, *(envelope("SUCCESS") for _ in range(5)))
    clock = FakeTime()
    poll = poll_until_terminal(
        case, response, PollSettings(deadline=300, interval=2), sleep=clock.sleep, monotonic=clock.monotonic
    )
    assert poll.polls == 2 and len(seen) == 2 and clock.sleeps == [2]
    assert poll.left_the_lifecycle and not poll.reached_terminal_state and poll.status_code == 200


# The one loop, driven directly: `ask` plays scripted answers, `FakeTime` stands for the clock.


def plays(*answers: PollAnswer | Exception) -> tuple[Callable[[], PollAnswer], list[int]]:
    script, asked = iter(answers), [0]

    def ask() -> PollAnswer:
        asked[0] += 1
        answer = next(script)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return ask, asked


def answered(code: int, status: str | None = None, retry_after: float | None = None) -> PollAnswer:
    return PollAnswer(code, None if status is None else {"status": status}, retry_after)


EVERY_TWO_SECONDS = PollSettings(deadline=60, interval=2)


def follow(
    *answers: PollAnswer | Exception, settings: PollSettings = EVERY_TWO_SECONDS
) -> tuple[Poll[PollAnswer], FakeTime]:
    ask, _ = plays(*answers)
    clock = FakeTime()
    poll = follow_task(
        Poll[PollAnswer]("t"), ask, lambda answer: answer, settings, sleep=clock.sleep, monotonic=clock.monotonic
    )
    return poll, clock


@pytest.mark.parametrize("gateway", [502, 504, 503, 429])
def test_a_gateways_answer_to_a_poll_is_polled_past_to_the_tasks_end(gateway: int) -> None:
    # A gateway's answer says nothing of the task, even with an envelope saying FAILED: the task ran on.
    poll, clock = follow(answered(gateway, "FAILED"), answered(200, "PENDING"), answered(200, "SUCCESS"))
    assert poll.status == "SUCCESS" and poll.status_code == 200 and poll.polls == 3
    assert not poll.timed_out and clock.sleeps == [2, 2]


def test_a_gateway_that_never_recovers_ends_at_the_deadline_with_its_last_answer() -> None:
    poll, clock = follow(*(answered(502) for _ in range(50)), settings=PollSettings(deadline=10, interval=3))
    assert poll.timed_out and poll.status_code == 502 and poll.status is None and not poll.reached_terminal_state
    assert poll.polls == 4 and clock.now == 9


def test_retry_after_sets_the_wait_after_a_gateways_answer_only() -> None:
    poll, clock = follow(
        answered(503, retry_after=7), answered(200, "PENDING", retry_after=30), answered(200, "FAILED")
    )
    assert clock.sleeps == [7, 2] and poll.status == "FAILED"


def test_a_retry_after_past_the_deadline_ends_the_poll_without_waiting() -> None:
    poll, clock = follow(answered(429, retry_after=3600), settings=PollSettings(deadline=60, interval=2))
    assert poll.timed_out and clock.sleeps == [] and poll.polls == 1


@pytest.mark.parametrize("code", [400, 401, 404, 500])
def test_any_other_answer_but_a_200_ends_the_poll_at_once(code: int) -> None:
    poll, clock = follow(answered(code), answered(200, "SUCCESS"))
    assert poll.polls == 1 and poll.status_code == code and clock.sleeps == [] and not poll.timed_out


def test_polls_lost_to_the_network_are_retried_and_a_run_of_them_ends_the_poll() -> None:
    recovered, _ = follow(httpx.ConnectError("down"), answered(200, "SUCCESS"))
    assert recovered.status == "SUCCESS" and recovered.error is None and recovered.polls == 2
    lost, clock = follow(*(httpx.ConnectError("down") for _ in range(5)))
    assert lost.polls == 3 and lost.error == "ConnectError: down" and lost.response is None
    assert clock.sleeps == [2, 2]


def test_a_sleep_that_does_not_wait_still_reaches_the_deadline() -> None:
    # A test's sleep, or a virtual clock's advance: the waits asked for count, whatever the wall clock says.
    ask, asked = plays(*(answered(200, "PENDING") for _ in range(100)))
    poll = follow_task(
        Poll[PollAnswer]("t"),
        ask,
        lambda answer: answer,
        PollSettings(deadline=10, interval=2),
        sleep=lambda seconds: None,
    )
    assert poll.timed_out and asked[0] == 6 and poll.waited == 10


def test_each_poll_is_announced_before_it_is_sent() -> None:
    ask, _ = plays(answered(200, "PENDING"), answered(200, "SUCCESS"))
    clock, heard = FakeTime(), []
    follow_task(
        Poll[PollAnswer]("t"),
        ask,
        lambda answer: answer,
        PollSettings(interval=2),
        sleep=clock.sleep,
        monotonic=clock.monotonic,
        before_each=lambda poll: heard.append((poll.polls, poll.waited)),
    )
    assert heard == [(0, 0.0), (1, 2.0)]


def test_an_httpx_answer_is_read_with_its_json_and_delay_seconds() -> None:
    assert httpx_answer(httpx.Response(503, json={"a": 1}, headers={"Retry-After": "4"})) == PollAnswer(
        503, {"a": 1}, 4
    )
    assert httpx_answer(httpx.Response(200, text="busy")) == PollAnswer(200, None, None)
    dated = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert httpx_answer(dated).retry_after is None
