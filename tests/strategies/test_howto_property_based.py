"""README example "Property-based tests of your client", run as written."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import given

import strategies
from mockserver import Config, create_app


# Your client code; normally you import it from your package.
class QolabaRejected(Exception):
    def __init__(self, fields: list[str]) -> None:
        super().__init__(f"the API rejected: {', '.join(fields)}")
        self.fields = fields


async def generate(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/getImagetoImage", json=body)
    envelope: dict[str, Any] = response.json()
    if response.status_code == 422:
        raise QolabaRejected([entry["field"] for entry in envelope["error_data"]])
    response.raise_for_status()
    return envelope


# The tests: your client against the fake, in-process.
FAKE = create_app(Config(seed=1))


def call_fake(body: dict[str, Any]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        transport = httpx.ASGITransport(app=FAKE)
        headers = {"Authorization": "Bearer test-token"}
        async with httpx.AsyncClient(transport=transport, base_url="http://fake", headers=headers) as client:
            return await generate(client, body)

    return asyncio.run(run())


@given(strategies.boundary_face_requests())
def test_my_client_handles_every_documented_edge(body: dict[str, Any]) -> None:
    envelope = call_fake(body)
    if body.get("celery"):
        assert envelope["status"] == "PENDING"
    else:
        assert len(envelope["output"]["result"]) <= body["batch"]


@given(strategies.invalid_face_requests())
def test_my_client_reports_the_field_the_api_rejected(invalid: strategies.InvalidRequest) -> None:
    with pytest.raises(QolabaRejected) as rejected:
        call_fake(invalid.body)
    assert invalid.field in rejected.value.fields


@given(strategies.face_requests(celery=True, batch=1))
def test_my_client_gets_a_task_id_for_queued_work(body: dict[str, Any]) -> None:
    assert call_fake(body)["task_id"]
