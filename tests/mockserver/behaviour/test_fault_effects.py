"""A fault is one table entry built of effects; the simulation acts the effects out and never asks a name.

Each test adds a fault the fake does not ship, the way `FAULTS` in faults.py would hold it, and drives it
through the HTTP API, the `X-Mock-Fault` header, the `--fault` flag and the admin API, with no other change.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import MappingProxyType

import httpx
import pytest

import mockserver.sim
from mockserver import Config, VirtualClock, create_app
from mockserver import cli as mockserver_cli
from mockserver.behaviour import faults
from mockserver.behaviour.fault_effects import (
    CrashedTask,
    Eligible,
    JobFailure,
    OutputFilter,
    Refusal,
)
from mockserver.behaviour.faults import FAULTS, Fault, FaultError, parse_fault
from mockserver.http.connection_faults import MALFORMED_BODY
from mockserver.testing.handle import QolabaMock
from tests.conftest import AUTH, valid_body

pytestmark = pytest.mark.anyio
BOTH = frozenset({"submit", "status"})
SUBMIT = frozenset({"submit"})

BAD_GATEWAY = Fault(
    "http_502", "http", BOTH, answer=Refusal(502, "Bad Gateway", "The upstream server sent a bad answer.", 5)
)
OOM_CRASH = Fault(
    "oom_crash",
    "domain",
    SUBMIT,
    Eligible(sync=False),
    task=CrashedTask(500, "Internal Error", "CUDA out of memory. Tried to allocate 8.00 GiB"),
)
FILTERED_TWICE = Fault("filtered_twice", "domain", SUBMIT, Eligible(failing=False), result=OutputFilter(True, 1))
BAD_PROMPT = Fault(
    "bad_prompt", "domain", SUBMIT, Eligible(failing=False), result=JobFailure("Prompt Error", "Prompt is empty.")
)
CUT_OFF = Fault("cut_off", "connection", BOTH, connection="malformed_json")


@pytest.fixture
def add(monkeypatch: pytest.MonkeyPatch) -> Callable[[Fault], None]:
    """Adds one entry to the fault table for this test, as one more line in faults.py would."""

    def added(fault: Fault) -> None:
        monkeypatch.setattr(faults, "FAULTS", MappingProxyType({**faults.FAULTS, fault.name: fault}))

    return added


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def client_of(config: Config, clock: VirtualClock) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(config, clock=clock))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=AUTH)


@pytest.fixture
async def client(clock: VirtualClock) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(Config(seed=1), clock) as client:
        yield client


async def test_an_added_http_fault_answers_the_header_on_submit_and_on_status(
    add: Callable[[Fault], None], client: httpx.AsyncClient
) -> None:
    add(BAD_GATEWAY)

    submitted = await client.post("/getImagetoImage", json=valid_body(), headers={"X-Mock-Fault": "http_502"})
    polled = await client.post("/getImage", json={"id": "some-task"}, headers={"X-Mock-Fault": "http_502"})

    for response in (submitted, polled):
        assert response.status_code == 502
        assert response.headers["Retry-After"] == "5"
        assert (response.json()["error"], response.json()["status"]) == ("Bad Gateway", "FAILED")
    assert submitted.json()["input"] == valid_body()


async def test_an_added_fault_is_in_the_spec_grammar_of_the_fault_flag(
    add: Callable[[Fault], None], clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    add(BAD_GATEWAY)
    served: list[Config] = []
    monkeypatch.setattr(mockserver_cli, "_serve", lambda config: served.append(config) or 0)

    argv = ["serve", "--fault", "http_502:nth:2@submit", "--latency", "none", "--clock", "virtual"]
    assert mockserver_cli.main(argv) == 0
    async with client_of(served[0], clock) as client:
        codes = [(await client.post("/getImagetoImage", json=valid_body())).status_code for _ in range(3)]

    assert served[0].faults == ("http_502:nth:2@submit",)
    assert codes == [200, 502, 200]


async def test_the_admin_api_takes_an_added_fault_and_the_journal_names_it(
    add: Callable[[Fault], None], clock: VirtualClock
) -> None:
    add(BAD_GATEWAY)
    app = create_app(Config(seed=1), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        put = await client.put("/__admin/faults", json={"faults": ["http_502:every:2@status"]})
        polls = [(await client.post("/getImage", json={"id": "t"}, headers=AUTH)).status_code for _ in range(4)]

    assert put.json()["faults"] == ["http_502:every:2@status"]
    assert polls == [200, 502, 200, 502]
    assert [entry.fault for entry in QolabaMock(app).journal] == [None, "http_502", None, "http_502"]


def test_the_grammar_knows_an_added_fault_its_operations_and_lists_it_among_the_names(
    add: Callable[[Fault], None],
) -> None:
    add(BAD_GATEWAY)
    add(OOM_CRASH)

    assert parse_fault("http_502:every:2@status").fault is BAD_GATEWAY
    with pytest.raises(FaultError, match="oom_crash cannot apply to status; it applies to submit only"):
        parse_fault("oom_crash@status")
    with pytest.raises(FaultError, match=r"expected one of http_500, .*, slow_body, http_502, oom_crash$"):
        parse_fault("http_418")


async def test_an_added_task_effect_crashes_queued_tasks_and_sync_calls_neither_meet_nor_count_it(
    add: Callable[[Fault], None], clock: VirtualClock
) -> None:
    add(OOM_CRASH)
    async with client_of(Config(seed=1, faults=("oom_crash:first:1",)), clock) as client:
        sync_call = await client.post("/getImagetoImage", json=valid_body())
        queued = await client.post("/getImagetoImage", json=valid_body(celery=True))
        clock.advance(1)
        polled = await client.post("/getImage", json={"id": queued.json()["task_id"]})

    assert (sync_call.status_code, sync_call.json()["status"]) == (200, "SUCCESS")
    assert (queued.status_code, queued.json()["status"]) == (200, "PENDING")
    assert polled.status_code == 500
    assert (polled.json()["error_data"], polled.json()["input"]) == (
        "CUDA out of memory. Tried to allocate 8.00 GiB",
        {},
    )


async def test_an_added_result_effect_fails_the_job_in_its_own_words(
    add: Callable[[Fault], None], client: httpx.AsyncClient
) -> None:
    add(BAD_PROMPT)

    response = await client.post("/getImagetoImage", json=valid_body(), headers={"X-Mock-Fault": "bad_prompt"})

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error"], response.json()["error_data"]) == (
        "FAILED",
        "Prompt Error",
        "Prompt is empty.",
    )


async def test_an_added_fault_may_flag_and_drop_images_at_once(
    add: Callable[[Fault], None], client: httpx.AsyncClient
) -> None:
    add(FILTERED_TWICE)

    body = valid_body(batch=6)
    output = (await client.post("/getImagetoImage", json=body, headers={"X-Mock-Fault": "filtered_twice"})).json()

    flags = output["output"]["Has_NSFW_Content"]
    assert len(flags) == 6 and any(flags)
    assert len(output["output"]["result"]) == len(output["output"]["low_res_urls"]) == flags.count(False) - 1


async def test_an_added_connection_fault_is_acted_out_as_its_act(
    add: Callable[[Fault], None], client: httpx.AsyncClient
) -> None:
    add(CUT_OFF)

    response = await client.post("/getImagetoImage", json=valid_body(), headers={"X-Mock-Fault": "cut_off"})

    assert response.content == MALFORMED_BODY


def test_the_shipped_faults_keep_their_effects() -> None:
    assert FAULTS["gateway_timeout"].answer == Refusal(
        504,
        "Gateway Timeout",
        "The upstream server did not respond in time.",
        after_gateway_timeout=True,
        job_runs_on=True,
    )
    assert FAULTS["http_429"].answer is not None and FAULTS["http_429"].answer.retry_after == 2
    assert FAULTS["nsfw"].result == OutputFilter(nsfw=True)
    assert FAULTS["content_filtered"].result == OutputFilter(dropped=1)
    assert [name for name, fault in FAULTS.items() if fault.task is not None] == ["task_lost", "task_crashed"]
    assert [fault.connection for fault in FAULTS.values() if fault.connection] == [
        "reset",
        "empty_response",
        "malformed_json",
        "hang",
        "slow_body",
    ]


@pytest.mark.parametrize(
    ("eligible", "allowed"),
    [
        (Eligible(), [True, True, True, True]),
        (Eligible(sync=False), [False, False, True, True]),
        (Eligible(queued=False, failing=False), [True, False, False, False]),
        (Eligible(failing=False), [True, False, True, False]),
    ],
)
def test_eligibility_admits_submits_by_whether_they_queue_and_whether_their_job_fails_at_once(
    eligible: Eligible, allowed: list[bool]
) -> None:
    submits = [(False, False), (False, True), (True, False), (True, True)]
    assert [eligible.admits(queued=queued, failing=failing) for queued, failing in submits] == allowed


def test_the_simulation_compares_no_fault_name_or_family() -> None:
    names = set(FAULTS) | {"http", "domain", "connection"}
    folder = Path(mockserver.sim.__file__).parent
    for module in ("backend.py", "outputs.py"):
        tree = ast.parse((folder / module).read_text())
        literals = {node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)}
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not literals & names, module
        assert "family" not in attributes, module
