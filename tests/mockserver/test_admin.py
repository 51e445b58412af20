"""The admin API, namespaces and the rate limit: steering a running fake without restarting it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from mockserver import Config, VirtualClock, create_app
from tests.conftest import AUTH, TOKEN, valid_body

pytestmark = pytest.mark.anyio


@pytest.fixture
async def virtual() -> AsyncIterator[httpx.AsyncClient]:
    """A fake whose namespaces each get their own virtual clock, as `serve --clock virtual` builds."""
    app = create_app(Config(seed=2, clock="virtual", latency="fixed:40s"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as client:
        yield client


def ns(name: str) -> dict[str, str]:
    return {"X-Mock-Namespace": name}


async def test_clock_advance_completes_a_forty_second_job(virtual: httpx.AsyncClient) -> None:
    task_id = (await virtual.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    before = (await virtual.get("/__admin/clock")).json()

    advanced = await virtual.post("/__admin/clock/advance", json={"seconds": 40})

    assert before["mode"] == "virtual"
    assert advanced.json()["now"] == before["now"] + 40
    assert (await virtual.post("/getImage", json={"id": task_id})).json()["status"] == "SUCCESS"


async def test_clock_advance_is_refused_on_the_system_clock(make_app: Callable[..., Starlette]) -> None:
    app = create_app(Config())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.post("/__admin/clock/advance", json={"seconds": 1})
    assert response.status_code == 409
    assert "--clock virtual" in response.json()["error_data"][0]["message"]


@pytest.mark.parametrize("seconds", [-1, "10", None, True])
async def test_clock_advance_rejects_bad_seconds(virtual: httpx.AsyncClient, seconds: Any) -> None:
    response = await virtual.post("/__admin/clock/advance", json={"seconds": seconds})
    assert response.status_code == 422
    assert response.json()["error_data"][0]["field"] == "seconds"


async def test_namespaces_isolate_tasks_clock_faults_and_journal(virtual: httpx.AsyncClient) -> None:
    task_id = (await virtual.post("/getImagetoImage", json=valid_body(celery=True), headers=ns("a"))).json()["task_id"]
    await virtual.put("/__admin/faults", json={"faults": ["http_503"]}, headers=ns("b"))
    await virtual.post("/__admin/clock/advance", json={"seconds": 40}, headers=ns("b"))

    # b's clock moved, a's did not; a's task is unknown in b; b's fault does not touch a.
    assert (await virtual.post("/getImage", json={"id": task_id}, headers=ns("a"))).json()["status"] == "PENDING"
    assert (await virtual.post("/getImage", json={"id": task_id}, headers=ns("b"))).status_code == 503
    await virtual.post("/__admin/clock/advance", json={"seconds": 40}, headers=ns("a"))
    assert (await virtual.post("/getImage", json={"id": task_id}, headers=ns("a"))).json()["status"] == "SUCCESS"

    journal_a = (await virtual.get("/__admin/journal", headers=ns("a"))).json()["entries"]
    journal_b = (await virtual.get("/__admin/journal?namespace=b")).json()["entries"]
    assert [e["status"] for e in journal_a] == [200, 200, 200]
    assert [e["status"] for e in journal_b] == [503]


async def test_journal_filters_by_path_and_never_holds_the_token(virtual: httpx.AsyncClient) -> None:
    await virtual.post("/getImagetoImage", json=valid_body(celery=True))
    await virtual.post("/api/v1/studio/getImage", json={"id": "x"})

    entries = (await virtual.get("/__admin/journal", params={"path": "/getImage"})).json()["entries"]

    assert [e["path"] for e in entries] == ["/api/v1/studio/getImage"]
    assert entries[0]["request_body"] == {"id": "x"} and entries[0]["response_body"]["status"] == "PENDING"
    assert entries[0]["token_id"].startswith("tok_")
    assert TOKEN not in (await virtual.get("/__admin/journal")).text


@pytest.mark.parametrize(("scope", "journal_left", "tasks_left"), [("journal", 0, 1), ("tasks", 2, 0), ("all", 0, 0)])
async def test_reset_clears_what_it_names(
    virtual: httpx.AsyncClient, scope: str, journal_left: int, tasks_left: int
) -> None:
    await virtual.post("/getImagetoImage", json=valid_body(celery=True))
    await virtual.post("/getImage", json={"id": "x"})

    assert (await virtual.post("/__admin/reset", json={"scope": scope})).status_code == 200

    assert len((await virtual.get("/__admin/journal")).json()["entries"]) == journal_left
    assert len((await virtual.get("/__admin/tasks")).json()["tasks"]) == tasks_left


async def test_reset_rejects_an_unknown_scope(virtual: httpx.AsyncClient) -> None:
    response = await virtual.post("/__admin/reset", json={"scope": "everything"})
    assert response.status_code == 422


async def test_seed_restarts_the_id_sequence(virtual: httpx.AsyncClient) -> None:
    await virtual.put("/__admin/seed", json={"seed": 77})
    first = (await virtual.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    await virtual.put("/__admin/seed", json={"seed": 77})
    again = (await virtual.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]

    assert first == again
    assert (await virtual.get("/__admin/seed")).json()["seed"] == 77
    assert (await virtual.put("/__admin/seed", json={"seed": -1})).status_code == 422


@pytest.mark.parametrize(
    ("faults", "field"),
    [(["http_429:1.5"], "faults"), (["explode"], "faults"), ("http_500", "faults"), ([3], "faults")],
)
async def test_faults_endpoint_rejects_bad_specs_and_keeps_the_old_ones(
    virtual: httpx.AsyncClient, faults: Any, field: str
) -> None:
    await virtual.put("/__admin/faults", json={"faults": ["http_503:every:2"]})

    response = await virtual.put("/__admin/faults", json={"faults": faults})

    assert response.status_code == 422
    assert response.json()["error_data"][0]["field"] == field
    assert (await virtual.get("/__admin/faults")).json()["faults"] == ["http_503:every:2"]


async def test_faults_can_be_set_then_returned_to_the_server_default(virtual: httpx.AsyncClient) -> None:
    await virtual.put("/__admin/faults", json={"faults": ["http_500"]})
    assert (await virtual.post("/getImage", json={"id": "x"})).status_code == 500

    await virtual.delete("/__admin/faults")
    assert (await virtual.post("/getImage", json={"id": "x"})).status_code == 200


async def test_latency_endpoint_sets_a_namespace_latency(virtual: httpx.AsyncClient) -> None:
    assert (await virtual.put("/__admin/latency", json={"latency": "fixed:2s"})).json()["latency"] == "fixed:2s"
    task_id = (await virtual.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    await virtual.post("/__admin/clock/advance", json={"seconds": 2})
    assert (await virtual.post("/getImage", json={"id": task_id})).json()["status"] == "SUCCESS"
    assert (await virtual.put("/__admin/latency", json={"latency": "slow"})).status_code == 422


async def test_config_patch_changes_the_running_server_and_shows_no_token(virtual: httpx.AsyncClient) -> None:
    patched = await virtual.patch("/__admin/config", json={"fidelity": "legacy", "tokens": [TOKEN]})
    # "legacy" is the old name of production-2024, which answers an unknown key as the backend does: 500.

    assert patched.status_code == 200
    assert patched.json()["fidelity"] == "production-2024" and patched.json()["tokens"] == 1
    assert TOKEN not in (await virtual.get("/__admin/config")).text
    refused = await virtual.post("/getImage", json={"id": "x"}, headers={"Authorization": "Bearer other"})
    assert refused.status_code == 500 and refused.json()["error_data"] == "('Invalid API Key',)"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"port": 1}, "port"),
        ({"rate_limit": "lots"}, "rate_limit"),
        ({"rate_limit": 5}, "rate_limit"),
        ({"result_ttl": -3}, "result_ttl"),
        ({"latency": 5}, "latency"),
        ({"latency": []}, "latency"),
        ({"latency": None}, "latency"),
        ({"latency": "fixed:120m"}, "latency"),
        ({"faults": [5]}, "faults"),
        ({"faults": "http_500"}, "faults"),
        ({"gateway_timeout": 1e308}, "gateway_timeout"),
        ({"colour": 1}, "colour"),
    ],
)
async def test_config_patch_rejects_bad_or_fixed_keys(
    virtual: httpx.AsyncClient, changes: dict[str, Any], field: str
) -> None:
    response = await virtual.patch("/__admin/config", json=changes)
    assert response.status_code == 422
    assert response.json()["error_data"][0]["field"] == field


async def test_admin_rejects_a_body_that_is_not_an_object(virtual: httpx.AsyncClient) -> None:
    response = await virtual.put("/__admin/faults", content=b"[1]", headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_rate_limit_answers_429_with_retry_after_per_token(make_app: Callable[..., Starlette]) -> None:
    clock = VirtualClock()
    app = create_app(Config(rate_limit="3/min"), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t", headers=AUTH) as client:
        codes = [(await client.post("/getImage", json={"id": "x"})).status_code for _ in range(4)]
        limited = await client.post("/getImage", json={"id": "x"})
        other_token = await client.post("/getImage", json={"id": "x"}, headers={"Authorization": "Bearer other"})
        clock.advance(int(limited.headers["retry-after"]))
        after_waiting = await client.post("/getImage", json={"id": "x"})

    assert codes == [200, 200, 200, 429]
    assert limited.json()["error"] == "Too Many Requests" and 1 <= int(limited.headers["retry-after"]) <= 60
    assert other_token.status_code == 200
    assert after_waiting.status_code == 200


async def test_two_runs_with_one_seed_give_identical_journals() -> None:
    async def journal() -> list[dict[str, Any]]:
        app = create_app(Config(seed=4, clock="virtual", latency="workload", faults=("http_503:0.3", "nsfw:0.3")))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=AUTH) as client:
            for batch in range(1, 9):
                submitted = await client.post("/getImagetoImage", json=valid_body(celery=True, batch=batch))
                await client.post("/__admin/clock/advance", json={"seconds": 300})
                await client.post("/getImage", json={"id": submitted.json().get("task_id") or "none"})
            return list((await client.get("/__admin/journal")).json()["entries"])

    first, second = await journal(), await journal()
    assert first == second
    assert {e["status"] for e in first} == {200, 503}


async def test_an_unknown_config_key_is_called_unknown(virtual: httpx.AsyncClient) -> None:
    response = await virtual.patch("/__admin/config", json={"colour": 1})
    assert response.json()["error_data"][0]["message"].startswith("unknown key 'colour'")


@pytest.mark.parametrize("seconds", [1e308, 10**20, 2.6e11])
async def test_the_clock_cannot_be_advanced_past_the_year_9999(virtual: httpx.AsyncClient, seconds: float) -> None:
    first = await virtual.post("/__admin/clock/advance", json={"seconds": seconds})
    second = await virtual.post("/__admin/clock/advance", json={"seconds": seconds})

    assert (first.status_code, second.status_code) == (422, 422)
    assert "year 9999" in first.json()["error_data"][0]["message"]
    # Time still reads, tasks still run to the end, the journal still reads.
    task_id = (await virtual.post("/getImagetoImage", json=valid_body(celery=True))).json()["task_id"]
    assert (await virtual.post("/__admin/clock/advance", json={"seconds": 40})).status_code == 200
    assert (await virtual.post("/getImage", json={"id": task_id})).json()["status"] == "SUCCESS"
    assert (await virtual.get("/__admin/journal")).status_code == 200


async def test_a_number_no_double_holds_is_refused_as_bad_json(virtual: httpx.AsyncClient) -> None:
    response = await virtual.post(
        "/__admin/clock/advance",
        content=b'{"seconds": ' + b"9" * 400 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert "too large to represent" in response.json()["error_data"][0]["message"]


@pytest.mark.parametrize("path", ["/__admin/reset", "/__admin/faults", "/__admin/seed"])
async def test_an_admin_body_over_the_limit_answers_413_unread(virtual: httpx.AsyncClient, path: str) -> None:
    response = await virtual.post(
        path, content=b"{" + b" " * (2 << 20) + b"}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error_data"][0]["field"] == "body"


async def test_an_admin_body_nested_100000_deep_answers_400(virtual: httpx.AsyncClient) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    response = await virtual.patch("/__admin/config", content=deep, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


async def test_admin_latency_above_max_latency_is_refused(virtual: httpx.AsyncClient) -> None:
    response = await virtual.put("/__admin/latency", json={"latency": "fixed:1000000s"})
    assert response.status_code == 422
    assert "max_latency" in response.json()["error_data"][0]["message"]


async def test_a_config_patch_with_several_bad_fields_names_each_and_changes_nothing(
    virtual: httpx.AsyncClient,
) -> None:
    before = (await virtual.get("/__admin/config")).json()

    response = await virtual.patch(
        "/__admin/config", json={"colour": 1, "port": 1, "rate_limit": "lots", "latency": "soon", "seed": 3}
    )

    assert response.status_code == 422
    problems = {entry["field"]: entry["message"] for entry in response.json()["error_data"]}
    assert sorted(problems) == ["colour", "latency", "port", "rate_limit", "seed"]
    assert problems["colour"].startswith("unknown key 'colour'")
    assert problems["port"].startswith("'port' cannot be changed at run time")
    assert problems["seed"] == "'seed' is not changed here; use PUT /__admin/seed"
    assert problems["rate_limit"].startswith("rate_limit='lots' is not a rate")
    assert problems["latency"].startswith("latency='soon' is not a latency spec")
    assert (await virtual.get("/__admin/config")).json() == before


async def test_a_config_patch_with_two_bad_values_of_changeable_keys_names_both(virtual: httpx.AsyncClient) -> None:
    response = await virtual.patch("/__admin/config", json={"result_ttl": -3, "gateway_timeout": 0})

    assert response.status_code == 422
    assert [entry["field"] for entry in response.json()["error_data"]] == ["result_ttl", "gateway_timeout"]
