"""The spend guard: safe runs send nothing the contract accepts; full runs queue, and stop at the cap."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from contracts import STATUS, SUBMIT, load_schema
from contracts.checks.run_registry import Run, run_over
from contracts.checks.spend_guard import SpendGuard, SpendRefused, before_call, filter_case, is_valid_request, poisoned
from tests.conftest import valid_body

schema = schemathesis.openapi.from_dict(load_schema())


def submit(body: Any) -> Any:
    return schema.find_operation_by_id(SUBMIT).Case(body=body, media_type="application/json")


def status(body: Any) -> Any:
    return schema.find_operation_by_id(STATUS).Case(body=body, media_type="application/json")


@pytest.mark.parametrize(
    ("body", "valid"),
    [
        (valid_body(), True),
        (valid_body(batch=9), False),
        (b'{"id": "t-1"}', False),  # a status body is not a submit body
        (b"\x00", False),
        ("not json", False),
        ([valid_body()], False),
    ],
)
def test_validity_is_judged_on_the_json_a_body_carries(body: Any, valid: bool) -> None:
    assert is_valid_request(SUBMIT, body) is valid


def test_a_poisoned_body_is_one_the_contract_rejects() -> None:
    assert not is_valid_request(SUBMIT, poisoned(valid_body()))


def test_safe_mode_drops_every_case_the_contract_accepts_on_either_operation() -> None:
    guard = SpendGuard("safe")
    assert not guard.admits(submit(valid_body()))
    assert not guard.admits(status({"id": "t-1"}))
    assert guard.admits(submit(valid_body(batch=0)))
    assert guard.admits(status({"id": 7}))
    assert guard.refused == 2


def test_safe_mode_refuses_at_the_wire_a_valid_case_that_slipped_past_the_filter() -> None:
    with pytest.raises(SpendRefused, match="safe mode"):
        SpendGuard("safe").before_send(submit(valid_body()))


def test_full_mode_queues_every_valid_submit_and_counts_it() -> None:
    guard = SpendGuard("full")
    case = submit(valid_body(celery=False))
    guard.before_send(case)
    assert case.body["celery"] is True
    assert guard.spent == 1


def test_full_mode_leaves_a_rejected_case_as_generated() -> None:
    guard = SpendGuard("full")
    case = submit(valid_body(batch=0, celery=False))
    guard.before_send(case)
    assert case.body["celery"] is False and guard.spent == 0


def test_the_spend_cap_refuses_the_request_after_the_last_allowed_one() -> None:
    guard = SpendGuard("full", max_spend=2)
    guard.before_send(submit(valid_body()))
    guard.before_send(submit(valid_body()))
    with pytest.raises(SpendRefused, match="--max-spend 2 reached"):
        guard.before_send(submit(valid_body()))
    assert guard.spent == 2


def test_the_global_hooks_act_only_on_schemas_under_guard() -> None:
    case = submit(valid_body())
    assert filter_case(None, case) is True
    before_call(None, case, {})  # unguarded: nothing happens
    with run_over(schema, Run(guard=SpendGuard("safe"))):
        assert filter_case(None, case) is False
        with pytest.raises(SpendRefused):
            before_call(None, case, {})
    assert filter_case(None, case) is True


def test_status_reads_admit_valid_reads_but_never_a_valid_submit() -> None:
    guard = SpendGuard("safe", status_reads=True)
    assert guard.admits(status({"id": "t-1"}))
    guard.before_send(status({"id": "t-1"}))
    assert not guard.admits(submit(valid_body()))
    with pytest.raises(SpendRefused):
        guard.before_send(submit(valid_body()))


def test_a_valid_body_sent_with_another_method_starts_nothing_and_may_be_sent() -> None:
    case = submit(valid_body())
    case.method = "PUT"  # what schemathesis's coverage phase does to probe unsupported methods
    guard = SpendGuard("safe")
    assert guard.admits(case)
    SpendGuard("full", max_spend=0).before_send(case)
