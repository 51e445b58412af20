from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from strategies import status_requests, task_ids


@given(task_ids())
def test_task_ids_are_canonical_uuid4_strings(task_id: str) -> None:
    parsed = uuid.UUID(task_id)
    assert parsed.version == 4
    assert str(parsed) == task_id


@given(status_requests())
def test_every_status_request_is_valid_for_the_contract(status_errors: Any, body: dict[str, Any]) -> None:
    assert status_errors(body) == []
    assert set(body) <= {"id", "refID"}


def test_ref_id_is_sometimes_sent_and_sometimes_not() -> None:
    sent: set[bool] = set()

    @seed(0)
    @settings(max_examples=50, database=None, derandomize=False)
    @given(status_requests())
    def record(body: dict[str, Any]) -> None:
        sent.add("refID" in body)

    record()
    assert sent == {True, False}


@given(status_requests(id="6f1c2a9e-8d3b-4c5e-9f7a-0b1c2d3e4f50", refID=st.just("order-7")))
def test_pinned_ids_are_sent_as_given(body: dict[str, Any]) -> None:
    assert body["id"] == "6f1c2a9e-8d3b-4c5e-9f7a-0b1c2d3e4f50"
    assert body.get("refID", "order-7") == "order-7"


@pytest.mark.parametrize(
    ("fixed", "message"),
    [
        ({"task_id": "x"}, r"status_requests\(task_id=\.\.\.\): 'task_id' is not a field.*expected one of id, refID"),
        ({"id": 7}, r"status_requests\(id=7\) must be valid for the contract"),
    ],
)
def test_bad_pins_fail_early_naming_the_argument(fixed: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        status_requests(**fixed)
