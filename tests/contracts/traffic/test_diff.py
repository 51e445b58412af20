"""What a live diff sends: the matrix, generated invalid submits that can never run a job, and auth and status reads."""

from __future__ import annotations

import httpx
import pytest

from contracts import SUBMIT
from contracts.probe.cases import base_body
from contracts.probe.generated_cases import generated_cases
from contracts.spec.schema import operation_path
from contracts.spec.validators import request_validator
from contracts.traffic.live_diff import DiffPlan, _live_requests
from mockserver import Config, create_app
from mockserver.testing.handle import QolabaMock
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
