"""A run against the API: each exchange charged, judged by the contract, written to the cassette without the token."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import httpx
import pytest

from contracts.cassette.reading import read_cassette
from contracts.real_api.api_run import ApiRun
from contracts.real_api.budget import Budget
from contracts.real_api.summary import summary_lines
from mockserver import Config, create_app
from mockserver.testing.client_journal import RecordingAsyncTransport
from mockserver.testing.inprocess import AsyncTransport

API = "https://api.example.com/api/v1/studio"
TOKEN = "sk-live-secret-token-123"
BODY = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "image": "https://example.com/face.jpg", "prompt": "a portrait",
    "batch": 1, "height": 512, "width": 512, "num_inference_steps": 30, "guidance_scale": 7.5, "strength": 1,
    "celery": True,
}  # fmt: skip


class Refused(Exception):
    pass


def refuse(message: str) -> NoReturn:
    raise Refused(message)


def client_for(run: ApiRun, test: str, fidelity: str = "contract") -> httpx.AsyncClient:
    # The API's stand-in, in-process under the production path prefix.
    app = AsyncTransport(create_app(Config(fidelity=fidelity, clock="virtual")), root_path="/api/v1/studio")
    recorded = run.journal_for(test, on_refuse=refuse)
    transport = RecordingAsyncTransport(app, recorded)
    return httpx.AsyncClient(transport=transport, base_url=API, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.mark.anyio
async def test_each_exchange_is_written_to_the_cassette_with_the_token_named_not_kept(tmp_path: Path) -> None:
    cassette = tmp_path / "run.jsonl"
    run = ApiRun(API, Budget(), record=cassette, token=TOKEN)
    async with client_for(run, "t") as client:
        task = (await client.post("/getImagetoImage", json=BODY)).json()
        await client.post("/getImage", json={"id": task["task_id"]})
    run.close()

    text = cassette.read_text()
    read = read_cassette(cassette)
    assert TOKEN not in text and TOKEN not in repr(run)
    assert read.upstream == API
    assert [(e.path, e.auth, e.token) for e in read.exchanges] == [
        ("/getImagetoImage", "bearer", "t1"),
        ("/getImage", "bearer", "t1"),
    ]
    assert read.exchanges[1].task is not None and read.exchanges[1].task["submit"] == 1


@pytest.mark.anyio
async def test_answers_that_break_the_contract_are_counted_per_test_and_listed() -> None:
    run = ApiRun(API, Budget())
    async with client_for(run, "conforming") as client:
        await client.post("/getImage", json={"id": "x"})
    async with client_for(run, "production", fidelity="production") as client:
        await client.post("/getImage", json={"id": "x"})

    assert run.violation_count["conforming"] == 0
    assert run.violation_count["production"] > 0
    assert all(line.startswith("production: POST /getImage -> HTTP 200: ") for line in run.violations)
    assert dict(run.exchanges) == {"conforming": 1, "production": 1}


@pytest.mark.anyio
async def test_a_refused_submit_is_never_sent_nor_recorded() -> None:
    run = ApiRun(API, Budget(max_spend=1))
    async with client_for(run, "t") as client:
        await client.post("/getImagetoImage", json=BODY)
        with pytest.raises(Refused, match="--qolaba-max-spend 1 reached"):
            await client.post("/getImagetoImage", json=BODY)

    assert run.exchanges["t"] == 1
    lines = summary_lines(run, "api", {"passed": 0, "failed": 1}, [("t2", "steers the fake: advance(1)")])
    assert lines == [
        f"target api ({API}): 1 test(s): 1 failed",
        "skipped for steering the fake: 1",
        "  t2: steers the fake: advance(1)",
        "spend: 1 of 1 valid submit(s), 1 refused before sending; sync submits refused",
        "  t: 1 spent, 1 refused",
        "contract violations: 0 in 1 exchange(s)",
        "cassette: none (--qolaba-record FILE writes one)",
    ]
