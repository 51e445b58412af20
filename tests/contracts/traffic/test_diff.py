"""What a live diff sends: the matrix, generated invalid submits that can never run a job, and auth and status reads."""

from __future__ import annotations

import json

import httpx
import pytest

from contracts import SUBMIT
from contracts.client.pacing import Pacing
from contracts.client.target import Target
from contracts.probe.cases import base_body
from contracts.probe.generated_cases import generated_cases
from contracts.spec.schema import STATUS, operation_path
from contracts.spec.validators import request_validator
from contracts.traffic.live_diff import DiffPlan, _live_requests, diff_live
from mockserver import Config, create_app
from mockserver.testing.handle import QolabaMock
from mockserver.testing.in_profile import BASE_URL, fake_in_profile
from tests.conftest import TOKEN


def test_generated_cases_are_distinct_and_the_same_for_the_same_seed() -> None:
    first, again, other = generated_cases(12, seed=7), generated_cases(12, seed=7), generated_cases(12, seed=8)
    bodies = [case.body(base_body()) for case in first]
    assert len(first) == 12 and first == again and first != other
    assert len({repr(sorted(body.items())) for body in bodies}) == 12


@pytest.mark.parametrize("free", [False, True], ids=["safe", "free"])
def test_every_generated_case_is_one_the_contract_rejects_even_without_the_broken_value(free: bool) -> None:
    # The poison alone makes the body invalid: whatever the API makes of the generated value, no job can succeed.
    validator = request_validator(SUBMIT)
    for case in generated_cases(30, free=free):
        body = case.body(base_body())
        assert not validator.is_valid(body), case
        repaired = {**body, case.field: base_body()[case.field]} if case.field in base_body() else body
        assert not validator.is_valid(repaired), case


def test_in_free_mode_production_refuses_every_generated_case_before_any_job() -> None:
    app = create_app(Config(fidelity="production", tokens=frozenset({TOKEN}), latency="none"))
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with (
        QolabaMock(app) as mock,
        httpx.Client(transport=mock.transport(), base_url="http://testserver", headers=headers) as client,
    ):
        cases = generated_cases(30, free=True)
        answers = [client.post(operation_path(SUBMIT), json=case.body(base_body())) for case in cases]
        assert {answer.status_code for answer in answers} == {500}  # the backend's own refusal, at once
        assert len(mock.tasks) == 0


def test_a_live_diff_sends_the_asked_number_of_generated_cases_and_no_valid_submit_unless_full() -> None:
    submit = operation_path(SUBMIT)
    without, with_cases = _live_requests(DiffPlan(cases=0)), _live_requests(DiffPlan(cases=15))
    assert len(with_cases) - len(without) == 15
    validator = request_validator(SUBMIT)
    assert not [body for path, _, body in with_cases if path == submit and validator.is_valid(body)]
    full = _live_requests(DiffPlan(mode="full", max_spend=2, cases=15))
    assert len([body for path, _, body in full if path == submit and validator.is_valid(body)]) == 2


# The status read of a made-up id a live diff sends, which the gateway below passes on like any read.
MADE_UP_ID = "00000000-0000-4000-8000-000000000000"


class GatewayOnPolls(httpx.BaseTransport):
    """A target behind a gateway that answers polls of a real task itself with `codes`, in order (the last one
    for good when `forever`), and passes everything else to the fake behind it."""

    def __init__(self, behind: httpx.BaseTransport, codes: list[int], *, forever: bool) -> None:
        self.behind, self.codes, self.forever, self.answered = behind, codes, forever, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        read = json.loads(request.content) if request.url.path.endswith(operation_path(STATUS)) else None
        task = read.get("id") if isinstance(read, dict) else None
        # A poll of a task the diff's submit queued: a UUID, and not the one the diff made up.
        if isinstance(task, str) and len(task) == 36 and task != MADE_UP_ID and self.codes:
            code = self.codes[0] if self.forever else self.codes.pop(0)
            self.answered += 1
            return httpx.Response(code, text="gateway", request=request)
        return self.behind.handle_request(request)


def live_diff_behind(gateway_codes: list[int], *, forever: bool = False) -> tuple[list[str], int]:
    """The differences a full live diff finds between the fake and the same fake behind the gateway."""
    with fake_in_profile("production", frozenset({TOKEN})) as target:
        gateway = GatewayOnPolls(target.transport(), gateway_codes, forever=forever)
        report = diff_live(
            Target(BASE_URL, token=TOKEN),
            "production",
            DiffPlan(mode="full", max_spend=1, cases=0),
            Pacing(task_timeout=6, poll_interval=2),
            transport=gateway,
            sleep=target.clock.advance,
        )
    return [f"{d.part}: {d.target} / {d.fake}" for d in report.differences], gateway.answered


def test_a_gateways_502_and_504_on_a_poll_are_polled_past_on_both_sides_not_reported() -> None:
    differences, answered_by_the_gateway = live_diff_behind([502, 504])
    assert answered_by_the_gateway == 2
    assert differences == []


def test_a_gateway_still_answering_at_the_deadline_is_reported_as_the_tasks_last_answer() -> None:
    differences, answered_by_the_gateway = live_diff_behind([502], forever=True)
    # Every queued task (the matrix's too, in production) is polled at 0, 2, 4 and 6 s of its 6 s timeout.
    assert answered_by_the_gateway > 0 and answered_by_the_gateway % 4 == 0
    assert "code: 502 / 200" in differences


def test_a_diff_plan_refuses_a_mode_or_a_count_it_cannot_send() -> None:
    with pytest.raises(ValueError, match=r"mode='everything'\) must be one of free, safe, full"):
        DiffPlan(mode="everything")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"cases=-1\) must be an integer >= 0"):
        DiffPlan(cases=-1)
