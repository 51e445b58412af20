"""Output URLs: ids from the seeded sequence, names stamped with the simulated second."""

from __future__ import annotations

import random
import uuid

import pytest

from mockserver import Config, VirtualClock
from mockserver.behaviour.fault_effects import OutputFilter
from mockserver.behaviour.fidelity.profiles import CONTRACT
from mockserver.behaviour.fidelity.rules import ContractRules, Job
from mockserver.behaviour.latency import Timing
from mockserver.sim.backend import Backend
from mockserver.sim.namespaces import DEFAULT, Namespace
from mockserver.sim.outputs import Destination, OutputStore, new_uuid, success
from tests.conftest import valid_body


@pytest.mark.parametrize("seed", [0, 1, 7, 2**31])
def test_new_uuid_spells_the_seeded_bits_as_uuid4_does(seed: int) -> None:
    drawn, replayed = random.Random(seed), random.Random(seed)

    ids = [new_uuid(drawn) for _ in range(1_000)]

    assert ids == [str(uuid.UUID(int=replayed.getrandbits(128), version=4)) for _ in range(1_000)]


def test_output_names_carry_the_simulated_utc_second_they_were_made_in() -> None:
    clock = VirtualClock(start=1_700_000_000.9)
    backend = Backend(Config(seed=1), clock)

    def stamps() -> list[str]:
        reply = backend.submit(valid_body(), base_url="http://testserver/")
        return [url.rsplit("/", 1)[1].split("_")[0] for url in reply.body["output"]["result"]]

    first = stamps()
    clock.advance(0.05)
    same_second = stamps()
    clock.advance(0.05)

    assert first == same_second == ["20231114221320"]
    assert stamps() == ["20231114221321"]


def test_a_request_with_a_seed_past_64_bits_still_gets_distinct_images() -> None:
    # The image key is the request's sorted JSON; orjson stops at 64-bit integers, which a seed may pass.
    backend = Backend(Config(seed=1))

    big = backend.submit(valid_body(seed=10**30, batch=2), base_url="http://testserver/")
    other = backend.submit(valid_body(seed=10**30 + 1, batch=2), base_url="http://testserver/")

    assert big.body["status"] == other.body["status"] == "SUCCESS"
    names = [url.rsplit("/", 1)[1] for url in big.body["output"]["result"] + other.body["output"]["result"]]
    keys = {backend.output(name).key for name in names}  # type: ignore[union-attr]
    assert len(keys) == 4


def test_a_seed_past_64_bits_still_generates_under_the_production_profile() -> None:
    # The backend's job parameters have no seed, so both requests are the same job; each still succeeds.
    backend = Backend(Config(seed=1, fidelity="production"))

    big = backend.submit(valid_body(seed=10**30, batch=2), base_url="http://testserver/")
    other = backend.submit(valid_body(seed=10**30 + 1, batch=2), base_url="http://testserver/")

    assert big.body["status"] == other.body["status"] == "SUCCESS"


def test_success_publishes_to_its_destination_and_leaves_out_what_the_filter_takes() -> None:
    job = ContractRules().admit_submit(valid_body(batch=3))
    assert isinstance(job, Job)
    store = OutputStore(max_outputs=100)
    space = Namespace(DEFAULT, Config(seed=1), VirtualClock())

    answer = success(
        job, Timing(2.0, 3.0), space, Destination(store, "http://cdn.test/", CONTRACT.outputs), OutputFilter(dropped=1)
    )

    output = answer["output"]
    assert (answer["status"], answer["input"], answer["time_required"]) == (
        "SUCCESS",
        job.echo,
        {"startup_time": 2.0, "runtime": 3.0},
    )
    assert output["Has_NSFW_Content"] == [False, False, False]
    assert len(output["result"]) == len(output["low_res_urls"]) == 2
    assert all(url.startswith("http://cdn.test/outputs/low_res/") for url in output["low_res_urls"])
    assert all(url.startswith("http://cdn.test/outputs/") for url in output["result"])
    # The dropped image is still drawn and stored; only its URLs are left out of the answer.
    assert len(store) == 6
