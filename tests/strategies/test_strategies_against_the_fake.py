"""Differential: what the strategy says, the contract's validator and the fake must all agree on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import SUBMIT, field_rules
from strategies import InvalidRequest, boundary_face_requests, face_requests, invalid_face_requests, status_requests

SUBMIT_PATH = "/getImagetoImage"
STATUS_PATH = "/getImage"


def assert_accepted(fake: Any, submit_errors: Any, body: dict[str, Any]) -> None:
    assert submit_errors(body) == []
    response = fake.post(SUBMIT_PATH, body)
    assert response.status_code == 200, response.text
    expected = "PENDING" if body.get("celery") else "SUCCESS"
    assert response.json()["status"] == expected


def assert_rejected_for_the_named_field(fake: Any, submit_errors: Any, invalid: InvalidRequest) -> None:
    errors = submit_errors(invalid.body)
    assert invalid.rule in {rule for _, rule in errors}, (str(invalid), errors)
    assert {field for field, _ in errors} == {invalid.field}
    response = fake.post(SUBMIT_PATH, invalid.body)
    assert response.status_code == 422, (str(invalid), response.text)
    envelope = response.json()
    assert (envelope["status"], envelope["error"]) == ("FAILED", "Input Validation Error")
    assert {entry["field"] for entry in envelope["error_data"]} == {invalid.field}, str(invalid)
    # One entry per broken rule, as the validator counts them.
    assert len(envelope["error_data"]) == len(errors), (str(invalid), envelope["error_data"])


@given(face_requests())
def test_the_fake_accepts_every_valid_body(fake: Any, submit_errors: Any, body: dict[str, Any]) -> None:
    assert_accepted(fake, submit_errors, body)


@given(boundary_face_requests())
def test_the_fake_accepts_every_boundary_body(fake: Any, submit_errors: Any, body: dict[str, Any]) -> None:
    assert_accepted(fake, submit_errors, body)


@given(invalid_face_requests())
def test_the_fake_rejects_each_invalid_body_naming_the_broken_field(
    fake: Any, submit_errors: Any, invalid: InvalidRequest
) -> None:
    assert_rejected_for_the_named_field(fake, submit_errors, invalid)


@pytest.mark.parametrize("field", [rule.name for rule in field_rules(SUBMIT)])
def test_the_fake_rejects_every_rule_of_each_field(fake: Any, submit_errors: Any, field: str) -> None:
    seen: set[str] = set()

    @settings(max_examples=40, database=None)
    @given(invalid_face_requests(fields=[field]))
    def check(invalid: InvalidRequest) -> None:
        assert_rejected_for_the_named_field(fake, submit_errors, invalid)
        seen.add(invalid.rule)

    check()
    assert seen


@given(status_requests())
def test_the_fake_reads_pending_for_every_unknown_task(fake: Any, status_errors: Any, body: dict[str, Any]) -> None:
    assert status_errors(body) == []
    response = fake.post(STATUS_PATH, body)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["task_id"]) == ("PENDING", body["id"])


@settings(max_examples=20)
@given(face_requests(celery=True), st.data())
def test_a_queued_task_id_makes_a_status_request_the_fake_answers(
    fake: Any, status_errors: Any, body: dict[str, Any], data: st.DataObject
) -> None:
    task_id = fake.post(SUBMIT_PATH, body).json()["task_id"]
    status = data.draw(status_requests(id=task_id))
    assert status["id"] == task_id
    assert status_errors(status) == []
    response = fake.post(STATUS_PATH, status)
    assert response.status_code == 200
    assert response.json()["status"] in ("PENDING", "SUCCESS")
