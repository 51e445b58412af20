"""Following the contract's link from a queued submit, and polling it to a terminal state on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts import STATUS, SUBMIT, load_schema
from contracts.client.case_polling import poll_until_terminal
from contracts.client.polling import Link, PollSettings, status_link
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
