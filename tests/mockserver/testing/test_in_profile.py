"""The fake in one fidelity profile, in-process on a virtual clock: what `diff` and the fingerprint compare with."""

from __future__ import annotations

import pytest

from contracts.spec.credentials import bearer
from mockserver.behaviour.fidelity.profiles import profile_names
from mockserver.config.settings import ConfigError
from mockserver.testing.in_profile import fake_in_profile
from tests.conftest import valid_body


@pytest.mark.parametrize(("name", "refusal"), [("contract", 401), ("production", 500), ("production-2024", 500)])
def test_the_fake_answers_in_the_profile_it_was_asked_for(name: str, refusal: int) -> None:
    assert name in profile_names()
    with fake_in_profile(name, frozenset({"t1"})) as fake:
        assert fake.client.post("/getImage", json={"id": "x"}, headers=bearer("t1")).status_code == 200
        assert fake.client.post("/getImage", json={"id": "x"}, headers=bearer("t2")).status_code == refusal


def test_its_clock_moves_only_when_told_and_only_forward() -> None:
    with fake_in_profile("contract") as fake:
        queued = fake.client.post("/getImagetoImage", json=valid_body(celery=True), headers=bearer("any"))
        task = {"id": queued.json()["task_id"]}
        assert fake.clock.now() == fake.started  # answering moved nothing
        fake.at(60)
        moved = fake.clock.now()
        fake.at(10)  # already past: nothing moves back
        assert fake.clock.now() == moved == fake.started + 60
        assert fake.client.post("/getImage", json=task, headers=bearer("any")).json()["status"] == "SUCCESS"


def test_an_unknown_profile_is_refused_before_any_fake_is_built() -> None:
    with pytest.raises(ConfigError, match="fidelity"), fake_in_profile("nope"):
        pass
