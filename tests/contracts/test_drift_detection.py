"""`qolaba-mock contract` and `probe` against deliberately drifted fakes: each drift is caught by name.

The faithful fake must pass both; every variant in the catalogue must fail at least one of them,
naming the broken rule. CONTRACT_CATCHES says which check of `contract` reports each variant;
variants absent from it are the probe's to catch (their `probe_row`).

The catalogue runs in-process (`run_contract(..., app=)`, `run_probe(transport=)`): the same engine and
checks the commands run, without sockets. The commands themselves run end to end once per mode: the
faithful fake in full mode, and a safe run with status reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.types import ASGIApp

from contracts import RunOptions, RunOutcome, Target, run_contract, run_probe
from mockserver.cli import main
from mockserver.server.live_server import LiveServer
from tests.conftest import TOKEN
from tests.contracts.drifted_fakes import (
    CATALOGUE,
    CONFIG,
    DRIFTS,
    Drift,
    DriftedApp,
    Exchange,
    faithful,
    handle,
    live,
)

# Which check of `contract` names each drift. A drift in the request rules is a schema-violating
# request the server accepted, which the contract's refuses_what_the_contract_forbids reports.
CONTRACT_CATCHES = {
    "batch_max_widened": "refuses_what_the_contract_forbids",
    "height_min_widened": "refuses_what_the_contract_forbids",
    "guidance_scale_min_widened": "refuses_what_the_contract_forbids",
    "strength_defaulted": "refuses_what_the_contract_forbids",
    "envelope_key_dropped": "envelope_shape",
    "status_respelled": "status_matches_http_code",
    "auth_not_enforced": "auth_is_enforced",
    "extra_output_image": "output_lists_agree",
    "wrong_content_type": "content_type_conformance",
    "relative_output_urls": "output_urls_absolute",
    "time_required_wrong_shape": "time_required_shape",
    "status_code_mismatch": "refuses_what_the_contract_forbids",
    "task_never_finishes": "queued_task_reaches_terminal_state",
    "validation_error_data_first_only": "validation_lists_every_broken_field",
}
# A safe run (the default against production) sends nothing the contract accepts, so it never sees a
# success answer or a queued task: these are the drifts it can still catch.
SAFE_CATCHES = (
    "batch_max_widened",
    "height_min_widened",
    "guidance_scale_min_widened",
    "strength_defaulted",
    "envelope_key_dropped",
    "auth_not_enforced",
    "wrong_content_type",
    "status_code_mismatch",
    "validation_error_data_first_only",
)
CONTRACT_ARGS = ["--token-env", "QOLABA_DRIFT_KEY", "--poll-interval", "0.01"]  # default --max-examples


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QOLABA_DRIFT_KEY", TOKEN)


def run_contract_cli(url: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    # A task that never finishes is given up on at once: the fake's tasks finish immediately when they do.
    code = main(["contract", "--base-url", url, *CONTRACT_ARGS, "--task-timeout", "0.05", *extra])
    return code, capsys.readouterr().out


def run_in_process(app: ASGIApp, mode: str = "full") -> RunOutcome:
    # As the command runs against loopback, with a task that never finishes given up on at once.
    options = RunOptions(mode=mode, max_spend=None, task_timeout=0.05, poll_interval=0.01)  # type: ignore[arg-type]
    return run_contract(Target("http://testserver", TOKEN), options, app=app)


def failing_in(outcome: RunOutcome) -> set[str]:
    return {check for (_, check), failed in outcome.failing.items() if failed}


def failing_checks(summary: str) -> set[str]:
    """The checks with failures in the summary table (rows whose last column is a number)."""
    rows = (line.split() for line in summary.splitlines() if line.startswith("POST /"))
    return {row[2] for row in rows if len(row) == 5 and row[4].isdigit()}


@pytest.fixture(scope="module")
def faithful_server() -> Iterator[LiveServer]:
    with LiveServer(CONFIG, app=faithful()) as server:
        yield server


def test_the_faithful_fake_passes_contract_and_probe(
    faithful_server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run_contract_cli(faithful_server.url, capsys)
    assert code == 0, out
    assert main(["probe", "--base-url", faithful_server.url, "--token-env", "QOLABA_DRIFT_KEY"]) == 0


@pytest.mark.parametrize("drift", [DRIFTS[name] for name in CONTRACT_CATCHES], ids=lambda drift: drift.name)
def test_contract_catches_the_drift_and_names_the_broken_rule(drift: Drift) -> None:
    outcome = run_in_process(drift.build())
    assert CONTRACT_CATCHES[drift.name] in failing_in(outcome), outcome.failures


@pytest.mark.parametrize("drift", [DRIFTS[name] for name in SAFE_CATCHES], ids=lambda drift: drift.name)
def test_a_safe_run_still_catches_every_drift_visible_in_rejections(drift: Drift) -> None:
    outcome = run_in_process(drift.build(), mode="safe")
    assert outcome.valid_requests == 0
    assert CONTRACT_CATCHES[drift.name] in failing_in(outcome), outcome.failures


@pytest.mark.parametrize("drift", [d for d in CATALOGUE if d.probe_row], ids=lambda drift: drift.name)
def test_probe_catches_every_drift_in_the_request_rules(drift: Drift) -> None:
    with handle(drift.build()) as mock:
        report = run_probe(Target("http://testserver", TOKEN), transport=mock.transport())
    table = report.table()
    field, rule = drift.probe_row  # type: ignore[misc]
    assert any(line.split()[:2] == [field, rule] and "DRIFT" in line for line in table.splitlines()), table


def test_every_drift_in_the_catalogue_is_caught_by_contract_or_probe() -> None:
    uncaught = [d.name for d in CATALOGUE if d.name not in CONTRACT_CATCHES and d.probe_row is None]
    assert uncaught == []


def _echo_broken_url(exchange: Exchange) -> None:
    if isinstance(exchange.body, dict) and isinstance(exchange.body.get("input"), dict):
        exchange.body["input"]["image"] = "http://["


def test_an_answer_echoing_a_malformed_url_is_judged_not_crashed_on() -> None:
    # schemathesis's own CLI dies on `http://[` in a response; this run must not.
    outcome = run_in_process(DriftedApp(faithful(), response=_echo_broken_url))
    assert outcome.errors == [] and failing_in(outcome) == set(), outcome.failures


def test_status_reads_let_a_safe_run_catch_a_respelled_pending(capsys: pytest.CaptureFixture[str]) -> None:
    with live(DRIFTS["status_respelled"]) as server:
        code, out = run_contract_cli(server.url, capsys, "--mode", "safe", "--status-reads")
    assert code == 1, out
    assert "status_matches_http_code" in failing_checks(out), out
