"""The budget of a run against the real API: valid submits counted per test, the next one past the cap refused."""

from __future__ import annotations

import json

import pytest

from contracts.real_api.budget import Budget, SpendRefused, starts_a_job

SUBMIT = "/api/v1/studio/getImagetoImage"
BODY = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "image": "https://example.com/face.jpg", "prompt": "a portrait",
    "batch": 1, "height": 512, "width": 512, "num_inference_steps": 30, "guidance_scale": 7.5, "strength": 1,
}  # fmt: skip
QUEUED = json.dumps({**BODY, "celery": True}).encode()


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/api/v1/studio/getImage", json.dumps({"id": "x"}).encode()),
        ("POST", SUBMIT, json.dumps({**BODY, "batch": 0}).encode()),
        ("POST", SUBMIT, b"{not json"),
        ("POST", SUBMIT, b"[1, 2]"),
        ("PUT", SUBMIT, QUEUED),
        ("GET", "/outputs/a.jpg", b""),
    ],
    ids=["status read", "rejected body", "not json", "not an object", "other method", "output fetch"],
)
def test_a_request_that_cannot_start_a_job_is_free(method: str, path: str, content: bytes) -> None:
    budget = Budget(max_spend=0)

    budget.charge("t", method, path, content)

    assert starts_a_job(method, path, content) is None
    assert budget.total == 0


def test_valid_submits_are_counted_per_test_and_the_one_past_the_cap_is_refused() -> None:
    budget = Budget(max_spend=3)
    budget.charge("a", "POST", SUBMIT, QUEUED)
    budget.charge("b", "POST", "/getImagetoImage", QUEUED)
    budget.charge("b", "POST", SUBMIT, QUEUED)

    with pytest.raises(SpendRefused, match=r"^refused before sending: --qolaba-max-spend 3 reached \(3 valid"):
        budget.charge("c", "POST", SUBMIT, QUEUED)

    assert dict(budget.spent) == {"a": 1, "b": 2}
    assert dict(budget.refused) == {"c": 1}


def test_a_sync_submit_is_refused_unless_allowed_and_then_counted() -> None:
    sync = json.dumps({**BODY, "celery": False}).encode()

    with pytest.raises(SpendRefused, match=r"sync submit .* --qolaba-allow-sync"):
        Budget().charge("t", "POST", SUBMIT, sync)
    allowed = Budget(allow_sync=True)
    allowed.charge("t", "POST", SUBMIT, sync)

    assert allowed.total == 1
