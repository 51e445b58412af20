"""A task's statuses come from the contract, and one rule says which answers to a poll show the task's end."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from contracts.spec import schema, statuses
from contracts.spec.statuses import (
    GATEWAY_CODES,
    is_queued,
    is_terminal,
    running_status,
    shows_end,
    status_of,
    task_statuses,
    terminal_statuses,
)

ENVELOPE = {"time_required": {}, "error": None, "error_data": None, "input": {}, "output": {}, "app_id": None}


def test_the_statuses_are_the_constants_of_the_status_operations_answers() -> None:
    assert task_statuses() == ("SUCCESS", "PENDING", "FAILED")
    assert running_status() == "PENDING" and terminal_statuses() == {"SUCCESS", "FAILED"}


def test_an_ending_status_added_to_the_contract_is_an_end_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    document = copy.deepcopy(schema._load())
    cancelled = copy.deepcopy(document["components"]["schemas"]["FailedEnvelope"])
    cancelled["properties"]["status"] = {"const": "CANCELLED"}
    document["components"]["schemas"]["CancelledEnvelope"] = cancelled
    answers = document["paths"]["/getImage"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    answers["oneOf"].append({"$ref": "#/components/schemas/CancelledEnvelope"})
    monkeypatch.setattr(schema, "_load", lambda: document)
    for cached in (statuses.running_status, statuses.task_statuses, statuses.terminal_statuses):
        cached.cache_clear()
    try:
        assert terminal_statuses() == {"SUCCESS", "FAILED", "CANCELLED"}
        assert is_terminal({"status": "CANCELLED"}) and shows_end(200, {"status": "CANCELLED"})
    finally:
        monkeypatch.undo()
        for cached in (statuses.running_status, statuses.task_statuses, statuses.terminal_statuses):
            cached.cache_clear()
    assert terminal_statuses() == {"SUCCESS", "FAILED"}


@pytest.mark.parametrize("body", [None, [], "PENDING", {"status": 5}, {"error": "x"}])
def test_a_body_without_a_string_status_has_none(body: Any) -> None:
    assert status_of(body) is None and not is_terminal(body) and not is_queued(body)


def test_a_queued_answer_is_pending_with_a_task_id() -> None:
    assert is_queued({**ENVELOPE, "status": "PENDING", "task_id": "t-1"})
    assert not is_queued({**ENVELOPE, "status": "PENDING", "task_id": None})
    assert not is_queued({**ENVELOPE, "status": "SUCCESS", "task_id": "t-1"})


@pytest.mark.parametrize(
    ("code", "body", "ended"),
    [
        (200, {"status": "SUCCESS"}, True),
        (200, {"status": "FAILED"}, True),
        (200, {"status": "PENDING"}, False),
        (500, {"status": "FAILED"}, True),  # production-2024 re-raises a failed job
        (500, None, True),  # a crashed worker's bare 500
        (401, {"status": "FAILED"}, True),
        (401, {"detail": "Not authenticated"}, False),
    ],
)
def test_a_poll_shows_its_tasks_end_by_an_ending_status_or_a_5xx_of_the_api(code: int, body: Any, ended: bool) -> None:
    assert shows_end(code, body) is ended


@pytest.mark.parametrize("code", sorted(GATEWAY_CODES))
@pytest.mark.parametrize("body", [None, {"status": "FAILED", "error": "Bad Gateway"}, {"status": "SUCCESS"}])
def test_a_gateways_answer_never_shows_the_tasks_end_whatever_its_body(code: int, body: Any) -> None:
    assert code in (429, 502, 503, 504)
    assert not shows_end(code, body)
