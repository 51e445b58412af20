"""The README's "Property-based tests with the fixtures" example, run as a test: `qolaba_fake` under `@given`."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given

import strategies
from mockserver.pytest_plugin import QolabaFake

API = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"
AUTH = {"Authorization": "Bearer sk-test"}


@given(invalid=strategies.invalid_face_requests())
def test_every_invalid_request_is_refused_naming_its_field(
    qolaba_fake: QolabaFake, invalid: strategies.InvalidRequest
) -> None:
    with qolaba_fake() as mock, mock.respx_router(API):  # this example's own fake: journal, tasks, faults afresh
        reply = httpx.post(f"{API}/getImagetoImage", json=invalid.body, headers=AUTH)
    assert reply.status_code == 422
    assert invalid.field in [entry["field"] for entry in reply.json()["error_data"]]
    assert len(mock.journal) == 1  # this example's call, and no other's


@pytest.mark.qolaba(faults=["http_503@status"])  # markers, ini and command line apply as for qolaba_mock
@given(task_id=strategies.task_ids())
def test_a_poll_meets_the_marked_fault(qolaba_fake: QolabaFake, task_id: str) -> None:
    with qolaba_fake() as mock, httpx.Client(transport=mock.transport(), base_url=API, headers=AUTH) as client:
        assert client.post("/getImage", json={"id": task_id}).status_code == 503
