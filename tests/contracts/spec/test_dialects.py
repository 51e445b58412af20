"""The contract tools read a refusal in any dialect, say where it was made, and flag only what none explains."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts.client.target import Target
from contracts.run.engine import RunOptions, run_contract
from contracts.spec.dialects import read_answer
from mockserver import Config, create_app
from mockserver.cli import main
from mockserver.server.live_server import LiveServer

SECRET = "sk-qolaba-dialects-4b1d"
PYDANTIC = (
    "2 validation errors for FaceConsistentParameters\nfile_url\n  Field required [type=missing, input_value={}, "
    "input_type=dict]\nbatch\n  Input should be less than or equal to 8 [type=less_than_equal, input_value=9, "
    "input_type=int]"
)


def envelope(status: str, **fields: Any) -> dict[str, Any]:
    return {"time_required": {}, "error": None, "error_data": None, "input": {}, "output": {}, "task_id": None} | {
        "status": status,
        **fields,
    }


@pytest.mark.parametrize(
    ("code", "body", "polled", "expected"),
    [
        (
            422,
            envelope("FAILED", error="Input Validation Error", error_data=[{"field": "batch", "message": "m"}]),
            False,
            ("rejected", "contract", "at once", ("batch",)),
        ),
        (
            422,
            {"detail": [{"type": "string_type", "loc": ["body", "task_id"], "msg": "m", "input": 5}]},
            False,
            ("rejected", "fastapi", "at once", ("id",)),
        ),
        (403, {"detail": "Not authenticated"}, False, ("rejected", "fastapi", "at once", ())),
        (
            500,
            envelope("FAILED", error="Internal Error", error_data="()"),
            False,
            ("rejected", "backend", "at once", ()),
        ),
        (
            200,
            envelope("FAILED", error="Internal Error", error_data=PYDANTIC),
            False,
            ("rejected", "pydantic", "in the job", ("image", "batch")),
        ),
        (
            200,
            envelope("FAILED", error="Internal Error", error_data=PYDANTIC),
            True,
            ("rejected", "pydantic", "at poll", ("image", "batch")),
        ),
        (200, envelope("PENDING", task_id="t"), False, ("queued", "", "", ())),
        (200, envelope("SUCCESS"), False, ("accepted", "", "", ())),
        (
            200,
            envelope("FAILED", error="Image URL Error", error_data="Given image type is not supported."),
            True,
            ("failed", "", "at poll", ()),
        ),
    ],
)
def test_each_dialect_reads_as_what_it_is(
    code: int, body: dict[str, Any], polled: bool, expected: tuple[Any, ...]
) -> None:
    reading = read_answer(code, body, polled=polled)
    assert (reading.kind, reading.dialect, reading.where, reading.named) == expected


def test_a_wrong_key_in_the_backends_words_is_a_refused_credential() -> None:
    reading = read_answer(500, envelope("FAILED", error="Internal Error", error_data="('Invalid API Key',)"))
    assert reading.refuses_credentials


def production(**config: Any) -> Any:
    return create_app(Config(fidelity="production", tokens=frozenset({SECRET}), **config))


def run(app: Any, mode: str) -> Any:
    options = RunOptions(mode=mode, max_examples=10, max_spend=None, poll_interval=0.01, task_timeout=1)
    return run_contract(Target("http://testserver", SECRET), options, app=app)


# What the backend really does that the contract forbids: answers without `app_id`, and requests it accepts
# although the contract rejects them (lax types, wider ranges, null for an optional field).
GENUINE = ("envelope keys differ: missing ['app_id']", "Response violates schema", "the API accepted")


@pytest.fixture(scope="module")
def production_run() -> Any:
    return run(production(), "full")


def test_a_production_like_api_fails_only_where_it_truly_differs(production_run: Any) -> None:
    failures = list(production_run.failures.values())
    assert failures and production_run.errors == []
    assert all(any(text in f.title + f.message for text in GENUINE) for f in failures), [f.message for f in failures]
    assert {f.check for f in failures} <= {
        "envelope_shape",
        "documented_response_schema",
        "refuses_what_the_contract_forbids",
    }


def test_every_way_production_refuses_is_recorded_with_where_and_dialect(production_run: Any) -> None:
    ways = {how for (_, _, how) in production_run.refusals}
    assert {"at once (backend)", "at once (fastapi)"} <= ways
    assert ways & {"in the job (pydantic)", "at poll (pydantic)"}


def test_a_free_run_of_production_invokes_no_job() -> None:
    app = production()
    outcome = run(app, "free")
    journal = app.state.backend.default.journal
    submits = [e for e in journal if e.path.endswith("/getImagetoImage")]

    assert submits and all(e.status != 200 for e in submits)  # each refused before a job
    assert len(app.state.backend.default.tasks) == 0 and outcome.valid_requests == 0
    assert {f.check for f in outcome.failures.values()} <= {"envelope_shape", "documented_response_schema"}


def test_the_contract_fake_still_conforms_in_free_mode() -> None:
    outcome = run(create_app(Config(tokens=frozenset({SECRET}))), "free")
    assert outcome.exit_code == 0, list(outcome.failures.values())


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("QOLABA_DIALECT_KEY", SECRET)
    return "QOLABA_DIALECT_KEY"


@pytest.fixture
def live_production() -> Iterator[LiveServer]:
    with LiveServer(Config(fidelity="production", tokens=frozenset({SECRET}))) as server:
        yield server


def test_the_contract_command_tells_how_a_live_production_like_api_refuses(
    live_production: LiveServer, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["contract", "--base-url", live_production.url, "--token-env", token_env, "--max-examples", "5"]
    code = main([*argv, "--poll-interval", "0.01", "--task-timeout", "1"])
    captured = capsys.readouterr()

    assert code == 1
    assert "How the API refused what the contract rejects:" in captured.out
    assert "at once (fastapi)" in captured.out and "at once (backend)" in captured.out
    assert SECRET not in captured.out + captured.err


def test_free_mode_says_it_invokes_no_job(
    live_production: LiveServer, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["contract", "--base-url", live_production.url, "--token-env", token_env, "--mode", "free"]
    main([*argv, "--max-examples", "5"])
    assert "free mode: only requests refused before any job (no GPU worker is invoked)" in capsys.readouterr().err


def test_the_probe_command_says_where_a_live_production_like_api_refuses(
    live_production: LiveServer, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["probe", "--base-url", live_production.url, "--token-env", token_env, "--poll-interval", "0.01"]
    code = main(argv)
    out = capsys.readouterr().out

    assert code == 1  # production's rules do differ: lax types, wider ranges
    assert "reject (at poll, pydantic" in out and "reject (at once, backend" in out
    assert "named neither" not in out and "error (" not in out  # no row misread for its dialect
