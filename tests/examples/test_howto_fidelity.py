"""docs/fidelity.md and the README: test a client under both truths, the docs' and production's."""

from __future__ import annotations

import httpx
import pytest

from mockserver.examples.face_client import FaceClient, GenerationFailed, Rejected
from mockserver.testing.handle import QolabaMock
from tests.examples.test_face_client import REQUEST, on_virtual_time

pytestmark = pytest.mark.anyio

BOTH_TRUTHS = pytest.mark.parametrize(
    "truth", [pytest.param(name, marks=pytest.mark.qolaba(fidelity=name)) for name in ("contract", "production")]
)


@pytest.fixture
def client(qolaba_mock: QolabaMock, qolaba_client: httpx.AsyncClient, qolaba_token: str) -> FaceClient:
    return FaceClient("http://testserver", qolaba_token, http=qolaba_client, **on_virtual_time(qolaba_mock))


@BOTH_TRUTHS
async def test_a_batch_too_large_is_reported_whoever_refuses_it(truth: str, client: FaceClient) -> None:
    with pytest.raises((Rejected, GenerationFailed)) as refused:  # a 422 at once, or a job that fails
        await client.generate({**REQUEST, "batch": 9})
    assert "batch" in str(refused.value)
    assert isinstance(refused.value, Rejected if truth == "contract" else GenerationFailed)
