"""`qolaba-mock contract`: zero failures against the fake, safe by default, no token anywhere, clear exits."""

from __future__ import annotations

import argparse
import io
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts import SUBMIT
from contracts.checks.spend_guard import is_valid_request
from contracts.cli.contract_commands import REMOTE_MAX_SPEND, REMOTE_RATE_LIMIT, contract_options
from contracts.client.progress import progress_for
from contracts.client.target import Target, resolve_target
from contracts.run.engine import RunOptions, run_contract
from contracts.run.report import summary
from mockserver import Config, create_app
from mockserver.cli import main
from mockserver.server.live_server import LiveServer
from tests.conftest import TOKEN
from tests.contracts.drifted_fakes import FINISHED_TASK_RESPELLED, DriftedApp, Exchange

# Distinctive, so a grep for it in every artifact means something.
SECRET = "sk-qolaba-contract-7f3a9c1e5b"
FAST = ["--max-examples", "5", "--poll-interval", "0.01"]


@pytest.fixture
def fake() -> Iterator[LiveServer]:
    with LiveServer(Config(seed=11, tokens=frozenset({SECRET}))) as server:
        yield server


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("QOLABA_TEST_KEY", SECRET)
    return "QOLABA_TEST_KEY"


def contract(url: str, token_env: str, *extra: str) -> list[str]:
    return ["contract", "--base-url", url, "--token-env", token_env, *FAST, *extra]


def submits_in_journal(server: LiveServer) -> list[object]:
    journal = server.app.state.backend.namespaces.get().journal
    return [entry.request_body for entry in journal.calls_to("/getImagetoImage")]


@pytest.mark.parametrize("mode", ["safe", "full"])
def test_the_fake_in_process_keeps_the_contract_in_both_modes(mode: str) -> None:
    app = create_app(Config(seed=3, tokens=frozenset({SECRET})))
    outcome = run_contract(
        Target("http://testserver", SECRET), RunOptions(mode=mode, max_examples=10, max_spend=None), app=app
    )
    assert outcome.exit_code == 0, list(outcome.failures.values()) + outcome.errors  # type: ignore[operator]
    assert outcome.requests > 100
    assert (outcome.valid_requests > 0) is (mode == "full")


def test_a_live_fake_passes_every_check_and_the_summary_names_each_custom_one(
    fake: LiveServer, token_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(contract(fake.url, token_env, "--report-dir", str(tmp_path))) == 0
    out = capsys.readouterr().out
    for check in (
        "envelope_shape",
        "status_matches_http_code",
        "output_lists_agree",
        "output_urls_absolute",
        "time_required_shape",
        "queued_task_reaches_terminal_state",
        "auth_is_enforced",
        "documented_response_schema",
        "documented_status_code",
        "refuses_what_the_contract_forbids",
        "no_unexplained_server_error",
    ):
        assert check in out
    assert "conforms: 0 distinct failures" in out
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert junit.tag == "testsuites" and not junit.findall(".//failure")
    assert {suite.get("name") for suite in junit} == {"POST /getImagetoImage", "POST /getImage"}


def test_a_safe_run_sends_no_request_the_contract_accepts(fake: LiveServer, token_env: str) -> None:
    assert main(contract(fake.url, token_env, "--mode", "safe")) == 0
    bodies = submits_in_journal(fake)
    assert len(bodies) > 50
    assert not any(is_valid_request(SUBMIT, body) for body in bodies)
    assert fake.app.state.backend.namespaces.get().tasks.describe() == []  # no job was ever started


def test_a_capped_full_run_starts_at_most_max_spend_jobs_all_queued(fake: LiveServer, token_env: str) -> None:
    assert main(contract(fake.url, token_env, "--mode", "full", "--max-spend", "2")) == 0
    valid = [body for body in submits_in_journal(fake) if is_valid_request(SUBMIT, body)]
    assert 1 <= len(valid) <= 2
    assert all(body["celery"] is True for body in valid)  # type: ignore[index]


def test_the_token_appears_in_no_output_and_no_report(
    token_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Auth not enforced, so there are failures (with curl lines and response excerpts) to write out.
    with LiveServer(Config(seed=11)) as open_door:
        assert main(contract(open_door.url, token_env, "--report-dir", str(tmp_path))) == 1
        journal_text = repr([entry.as_dict() for entry in open_door.app.state.backend.namespaces.get().journal])
    captured = capsys.readouterr()
    artifacts = [captured.out, captured.err, journal_text] + [p.read_text() for p in tmp_path.iterdir()]
    # The failures are about requests with a made-up token, so that token is what the reproduce lines show.
    assert "auth_is_enforced" in captured.out and "Bearer qolaba-mock-made-up-token" in captured.out
    assert "hint: qolaba-mock serve accepts any token unless started with --token $QOLABA_TEST_KEY" in captured.out
    assert all(SECRET not in text for text in artifacts)


def test_the_reports_name_each_failure_and_the_html_page_needs_nothing_else(
    token_env: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with LiveServer(Config(seed=11)) as open_door:
        assert main(contract(open_door.url, token_env, "--report-dir", str(tmp_path))) == 1
    capsys.readouterr()
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    failed = {
        (case.get("classname"), case.get("name")) for case in junit.iter("testcase") if case.find("failure") is not None
    }
    assert ("POST /getImagetoImage", "auth_is_enforced") in failed
    assert all("reproduce: curl" in (node.text or "") for node in junit.iter("failure"))
    page = (tmp_path / "report.html").read_text()
    assert "violations found" in page and "auth_is_enforced" in page
    assert not any(marker in page for marker in ("<script", "<link", "src=", "@import", "url("))


def test_a_remote_host_defaults_to_safe_with_a_small_cap_and_a_rate_limit() -> None:
    remote = resolve_target("https://api.example.com/v1", "KEY", {"KEY": SECRET})
    options = contract_options(remote, _args())
    assert (options.mode, options.max_spend, options.rate_limit) == ("safe", REMOTE_MAX_SPEND, REMOTE_RATE_LIMIT)
    full = contract_options(remote, _args(mode="full"))
    assert (full.mode, full.max_spend) == ("full", REMOTE_MAX_SPEND)


def test_loopback_defaults_to_full_without_a_cap() -> None:
    for url in ("http://127.0.0.1:8000", "http://localhost:9", "http://[::1]:8000"):
        options = contract_options(resolve_target(url, "KEY", {"KEY": SECRET}), _args())
        assert (options.mode, options.max_spend, options.rate_limit) == ("full", None, None)


def _args(**overrides: object) -> argparse.Namespace:
    values: dict[str, object] = {
        "mode": None,
        "max_examples": 20,
        "max_spend": None,
        "rate_limit": None,
        "request_timeout": 30.0,
        "task_timeout": 300.0,
        "poll_interval": 2.0,
        "seed": 0,
        "status_reads": False,
    }
    values.update(overrides)
    return argparse.Namespace(**values)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["contract", "--base-url", "http://127.0.0.1:9", "--token-env", "QOLABA_UNSET_X"],
            "QOLABA_UNSET_X is not set",
        ),
        (["contract", "--base-url", "ftp://x", "--token-env", "QOLABA_TEST_KEY"], "absolute http:// or https://"),
        (["contract", "--base-url", "http://[", "--token-env", "QOLABA_TEST_KEY"], "is not a URL"),
        (["contract", "--base-url", "http://x", "--max-examples", "0"], "not a positive integer"),
        (
            ["contract", "--base-url", "http://x", "--rate-limit", "fast"],
            "'fast' is not a rate; expected N/s|sec|second, N/m|min|minute",
        ),
        (["contract", "--base-url", "http://x", "--max-spend", "-1"], "'-1' is not an integer >= 0"),
        (["contract", "--base-url", "http://x", "--task-timeout", "nan"], "'nan' is not a positive number of seconds"),
        (["probe", "--base-url", "http://x", "--interval", "-2"], "'-2' is not a number of seconds >= 0"),
        (["contract", "--base-url", "http://x", "--mode", "yolo"], "invalid choice: 'yolo'"),
        (["probe"], "the following arguments are required: --base-url"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and SECRET not in err


def test_an_unwritable_report_dir_is_refused_before_any_request(
    fake: LiveServer, token_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(contract(fake.url, token_env, "--report-dir", str(blocker / "reports"))) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"qolaba-mock: error: --report-dir {blocker / 'reports'}:") and err.count("\n") == 1
    assert submits_in_journal(fake) == []


def test_an_unreachable_base_url_is_exit_2_not_a_traceback(token_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "--base-url", closed_port_url(), "--token-env", token_env]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qolaba-mock: error: cannot reach http://127.0.0.1:") and err.count("\n") == 1


def test_status_reads_let_a_safe_run_read_pending_answers_without_starting_a_job(
    fake: LiveServer, token_env: str
) -> None:
    assert main(contract(fake.url, token_env, "--mode", "safe", "--status-reads")) == 0
    journal = fake.app.state.backend.namespaces.get().journal
    reads = [entry for entry in journal.calls_to("/getImage") if entry.status == 200]
    assert reads and all(entry.response_body["status"] == "PENDING" for entry in reads)
    assert not any(is_valid_request(SUBMIT, body) for body in submits_in_journal(fake))


@pytest.mark.parametrize("fidelity", ["contract", "production"])
@pytest.mark.parametrize("command", ["contract", "probe", "diff"])
def test_a_refused_token_is_one_line_and_exit_2_before_any_further_request(
    command: str, fidelity: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every answer a wrong key gets is one the contract allows (401), so a run would otherwise read as a pass.
    monkeypatch.setenv("QOLABA_EXPIRED_KEY", "sk-expired-key-1b2c")
    with LiveServer(Config(seed=11, tokens=frozenset({SECRET}), fidelity=fidelity)) as server:
        code = main([command, "--base-url", server.url, "--token-env", "QOLABA_EXPIRED_KEY"])
        sent = list(server.app.state.backend.namespaces.get().journal)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"qolaba-mock: error: {server.url} refused the token in $QOLABA_EXPIRED_KEY (HTTP ")
    assert err.count("\n") == 1 and "sk-expired-key-1b2c" not in err
    assert len(sent) == 1  # the reachability request, and nothing after it


def test_a_polled_answer_outside_the_lifecycle_is_reported_at_once_and_its_task_not_polled_again() -> None:
    app = FINISHED_TASK_RESPELLED.build()
    # The spend pass has no stateful phase, so only the run's own polling reads the queued tasks.
    options = RunOptions(mode="full", max_spend=2, max_examples=5, poll_interval=0.01, task_timeout=30)
    outcome = run_contract(Target("http://testserver", TOKEN), options, app=app)
    journal = app.state.backend.namespaces.get().journal  # type: ignore[attr-defined]
    queued = {entry.response_body["task_id"] for entry in journal.calls_to("/getImagetoImage") if entry.status == 200}
    polls = [entry for entry in journal.calls_to("/getImage") if _polled_id(entry.request_body) in queued]
    assert outcome.tasks_polled == len(queued) == len(polls) > 0  # one poll each: the first answer was already wrong
    failing = {(operation, check) for operation, check in outcome.failing}
    assert ("POST /getImage", "status_matches_http_code") in failing
    assert ("POST /getImagetoImage", "queued_task_reaches_terminal_state") not in failing, summary(outcome)


def _polled_id(body: object) -> str | None:
    task_id = body.get("id") if isinstance(body, dict) else None
    return task_id if isinstance(task_id, str) else None


def test_every_valid_submit_is_polled_or_the_summary_says_how_it_was_answered_at_once() -> None:
    app = create_app(Config(seed=3, tokens=frozenset({SECRET})))
    options = RunOptions(mode="full", max_examples=10, max_spend=None, poll_interval=0.01)
    outcome = run_contract(Target("http://testserver", SECRET), options, app=app)
    # schemathesis's coverage phase sends the valid body once without its Authorization header: refused, not queued.
    assert outcome.answered_at_once == {"HTTP 401 Not authenticated": 1}
    assert outcome.valid_requests == outcome.tasks_polled + 1
    assert (
        f"{outcome.valid_requests} valid submits (GPU jobs; 1 answered at once: HTTP 401 Not authenticated), "
        f"{outcome.tasks_polled} tasks polled"
    ) in summary(outcome)


def test_progress_is_one_stderr_line_per_phase_when_stderr_is_not_a_terminal(
    fake: LiveServer, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(contract(fake.url, token_env)) == 0
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if line.startswith("contract: ")]
    phases = ["examples", "coverage", "fuzzing", "stateful"]
    assert progress[:4] == [f"contract: {phase} phase" for phase in phases], err
    (polling,) = progress[4:]
    assert re.fullmatch(r"contract: polling \d+ queued tasks, each until it ends or 300 s pass", polling), err
    assert "\r" not in err and SECRET not in err


def test_a_capped_run_names_what_each_pass_sends_in_its_phase_lines(
    fake: LiveServer, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(contract(fake.url, token_env, "--mode", "full", "--max-spend", "2")) == 0
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("contract: ")]
    assert progress[:4] == [
        "contract: examples phase (requests the contract rejects)",
        "contract: coverage phase (requests the contract rejects)",
        "contract: fuzzing phase (requests the contract rejects)",
        "contract: examples phase (valid submits, at most 2)",
    ]


def test_on_a_terminal_progress_rewrites_one_line_and_clears_it_at_the_end() -> None:
    stream = io.StringIO()
    progress = progress_for(stream, live=True, redact=Target("http://x", SECRET).redact)
    progress.phase("contract: coverage phase")
    progress.step(f"contract: polled 1 of 2 tasks; task {SECRET}")
    progress.done()
    assert stream.getvalue() == (
        "\r\x1b[Kcontract: coverage phase\r\x1b[Kcontract: polled 1 of 2 tasks; task $TOKEN\r\x1b[K"
    )


def _status_read_answered_in_fastapi_words(exchange: Exchange) -> None:
    if exchange.path.endswith("/getImage") and exchange.status == 200:
        exchange.body = {"detail": "Not Found"}


def test_a_polled_answer_outside_the_lifecycle_that_no_answer_check_reads_still_fails_the_task() -> None:
    # A 200 in FastAPI's words is a refusal's dialect to the answer checks, so they pass it; the task still has no end.
    app = DriftedApp(
        create_app(Config(seed=3, tokens=frozenset({TOKEN}))), response=_status_read_answered_in_fastapi_words
    )
    options = RunOptions(mode="full", max_spend=1, max_examples=5, poll_interval=0.01, task_timeout=30)
    outcome = run_contract(Target("http://testserver", TOKEN), options, app=app)
    (failure,) = [f for f in outcome.failures.values() if f.check == "queued_task_reaches_terminal_state"]
    assert failure.title == "Queued task left the lifecycle"
    assert failure.message.endswith(
        "answered HTTP 200 with no status, neither PENDING nor an end; polling stopped at that answer"
    )
    assert failure.costs_a_job  # reproducing it means submitting again
