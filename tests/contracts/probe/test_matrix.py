"""The probe: each documented bound, on it and just past it, expected vs observed; never a request that starts a job."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp

from contracts import STATUS, SUBMIT, field_rules
from contracts.client.target import Target
from contracts.probe.matrix import ABSENT, Pacing, ProbeReport, run_probe
from mockserver import Config, create_app
from mockserver.cli import main
from mockserver.server.live_server import LiveServer
from mockserver.wire import envelope
from tests.conftest import TOKEN
from tests.contracts.drifted_fakes import (
    CATALOGUE,
    CONFIG,
    DRIFTS,
    FAITHFUL,
    Drift,
    DriftedApp,
    Exchange,
    contract_bound,
    handle,
    live,
)

SECRET = "sk-probe-7f3a9c1e-do-not-print"
TARGET = Target("http://testserver", token=TOKEN)
FIELDS = [rule.name for rule in field_rules(SUBMIT)]
BATCH_MAX = contract_bound("batch", "maximum")


def probe(app: ASGIApp, target: Target = TARGET) -> ProbeReport:
    with handle(app) as mock:
        return run_probe(target, transport=mock.transport())


def probe_with(
    handler: Callable[[httpx.Request], httpx.Response], pacing: Pacing | None = None, **kwargs: Any
) -> ProbeReport:
    target = Target("https://api.example", token=SECRET)
    return run_probe(target, pacing, transport=httpx.MockTransport(handler), **kwargs)


def rejection(request: httpx.Request, status: int = 422, **extra: Any) -> httpx.Response:
    """What the contract says the API answers a probe: every broken rule listed (here: the missing fields)."""
    body = json.loads(request.content)
    missing = [{"field": name, "message": "required"} for name in FIELDS[:4] if name not in body]
    envelope = {"status": "FAILED", "error": "Input Validation Error", "error_data": missing, **extra}
    return httpx.Response(status, json=envelope)


@pytest.fixture(scope="module")
def faithful_report() -> ProbeReport:
    return probe(FAITHFUL())


def test_the_faithful_fake_keeps_every_probed_bound(faithful_report: ProbeReport) -> None:
    assert not faithful_report.drifted, faithful_report.table()
    assert all(row.observed == row.expected and row.verdict == "ok" for row in faithful_report.rows)
    assert faithful_report.stopped is None


def test_every_documented_bound_is_probed_on_it_and_just_past_it(faithful_report: ProbeReport) -> None:
    sent = {(row.field, row.rule, json.dumps(row.value, default=repr), row.expected) for row in faithful_report.rows}
    for rule in field_rules(SUBMIT):
        for keyword, bound in (("minimum", rule.minimum), ("maximum", rule.maximum)):
            if bound is not None:
                assert (rule.name, keyword, json.dumps(bound), "accept") in sent
                outside = [
                    row
                    for row in faithful_report.rows
                    if (row.field, row.rule, row.expected) == (rule.name, keyword, "reject")
                ]
                assert len(outside) == 1 and (
                    outside[0].value < bound if keyword == "minimum" else outside[0].value > bound
                )
        if rule.exclusive_minimum is not None:
            assert (rule.name, "exclusiveMinimum", json.dumps(rule.exclusive_minimum), "reject") in sent
        for member in rule.enum or ():
            assert (rule.name, "enum", json.dumps(member), "accept") in sent
        assert (rule.name, "required" if rule.required else "optional") in {
            (r.field, r.rule) for r in faithful_report.rows
        }
        assert (rule.name, "type") in {(r.field, r.rule) for r in faithful_report.rows}


def test_integers_step_by_one_and_numbers_by_a_hundredth_past_a_bound(faithful_report: ProbeReport) -> None:
    by_key = {(row.field, row.rule, row.expected): row.value for row in faithful_report.rows}
    for rule in field_rules(SUBMIT):
        if rule.maximum is not None:
            step = by_key[(rule.name, "maximum", "reject")] - rule.maximum
            assert step == pytest.approx(1 if rule.type == "integer" else 0.01)


def test_rows_come_in_contract_field_order_and_the_same_every_run(faithful_report: ProbeReport) -> None:
    fields = list(dict.fromkeys(row.field for row in faithful_report.rows if row.operation == SUBMIT))
    assert fields == FIELDS
    assert {row.operation for row in faithful_report.rows[len(faithful_report.rows) - 2 :]} == {STATUS}
    assert probe(FAITHFUL()).to_json() == faithful_report.to_json()


def test_the_probe_sends_no_request_the_contract_accepts() -> None:
    app = FAITHFUL()
    with handle(app) as mock:
        report = run_probe(TARGET, transport=mock.transport())
        calls = mock.journal.calls_to("/getImagetoImage")
        reads = mock.journal.calls_to("/getImage")
    submit_rows = [row for row in report.rows if row.operation == SUBMIT]
    assert len(calls) == len(submit_rows) and len(reads) == len(report.rows) - len(submit_rows)
    assert all(call.status is not None and 400 <= call.status < 500 for call in [*calls, *reads])
    for call, row in zip(calls, submit_rows, strict=True):
        assert row.poison not in call.request_body
        assert row.field == "celery" or call.request_body["celery"] is True  # queued, in case one were ever taken


def test_each_request_leaves_out_a_required_field_other_than_the_one_under_test(faithful_report: ProbeReport) -> None:
    required = {rule.name for rule in field_rules(SUBMIT) if rule.required}
    submit_rows = [row for row in faithful_report.rows if row.operation == SUBMIT]
    assert all(row.poison in required and row.poison != row.field for row in submit_rows)


def test_the_json_report_has_one_entry_per_row_and_marks_absent_fields(faithful_report: ProbeReport) -> None:
    report = json.loads(json.dumps(faithful_report.to_json()))
    assert report["base_url"] == TARGET.base_url and report["drifted"] is False and report["drifted_rows"] == 0
    assert len(report["rows"]) == len(faithful_report.rows)
    absent = [row for row in report["rows"] if row["absent"]]
    assert absent and all(row["value"] is None for row in absent)
    assert {"field", "rule", "expected", "observed", "observed_status", "observed_error", "source", "verdict"} <= set(
        report["rows"][0]
    )


def test_the_table_shows_every_field_and_ends_with_a_summary(faithful_report: ProbeReport) -> None:
    table = faithful_report.table()
    assert all(name in table for name in FIELDS)
    assert "(absent)" in table and "422 Input Validation Error" in table
    assert (
        table.splitlines()[-1]
        == f"{len(faithful_report.rows)} probes against http://testserver: every documented bound holds"
    )


def test_the_token_never_appears_in_the_table_or_the_json() -> None:
    def echo_the_token(request: httpx.Request) -> httpx.Response:
        return rejection(
            request, input={"auth": request.headers["authorization"]}, error=request.headers["authorization"]
        )

    report = probe_with(echo_the_token)
    faithful = probe(create_app(Config(seed=1, tokens=frozenset({SECRET}))), Target("http://testserver", token=SECRET))
    for output in (report.table(), json.dumps(report.to_json()), faithful.table(), json.dumps(faithful.to_json())):
        assert SECRET not in output
    assert "$TOKEN" in report.table()


@pytest.mark.parametrize("drift", [d for d in CATALOGUE if d.probe_row is not None], ids=lambda d: d.name)
def test_a_request_rule_drift_shows_on_exactly_its_row(drift: Drift) -> None:
    assert drift.probe_row is not None
    report = probe(drift.build())
    drifted = [row for row in report.rows if row.drifted]
    assert [(row.field, row.rule, row.expected, row.observed) for row in drifted] == [
        (*drift.probe_row, "reject", "accept")
    ]
    assert drifted[0].verdict == "DRIFT: accepted a value the contract rejects"


def test_the_widened_batch_maximum_is_the_one_drifted_row() -> None:
    report = probe(DRIFTS["batch_max_widened"].build())
    (row,) = [row for row in report.rows if row.drifted]
    assert (row.field, row.rule, row.value) == ("batch", "maximum", BATCH_MAX + 1)
    assert "DRIFT: accepted a value the contract rejects" in report.table() and report.drifted


@pytest.mark.parametrize(
    "name",
    [
        "envelope_key_dropped",
        "status_respelled",
        "auth_not_enforced",
        "extra_output_image",
        "wrong_content_type",
        "relative_output_urls",
        "time_required_wrong_shape",
        "task_never_finishes",
    ],
)
def test_response_drifts_are_left_to_the_contract_command(name: str) -> None:
    # The probe judges request rules only; it raises no false alarm on drifts in successful answers or auth.
    assert not probe(DRIFTS[name].build()).drifted


def test_a_rejection_answered_200_is_drift_on_every_row_but_no_accepted_job() -> None:
    report = probe(DRIFTS["status_code_mismatch"].build())
    assert all(row.drifted and row.observed == row.expected for row in report.rows)
    assert {row.verdict for row in report.rows} == {"DRIFT: HTTP 200 where the contract says 422"}
    assert report.stopped is None


def test_an_api_listing_only_the_first_broken_rule_reads_rejections_behind_the_removed_field_as_accepted() -> None:
    # The poison technique assumes every broken rule is listed. When only the first is, a rejected value of a field
    # after the removed one (prompt, in contract order) is hidden behind it: it reads as accepted, so it is reported.
    report = probe(DRIFTS["validation_error_data_first_only"].build())
    after_poison = FIELDS[FIELDS.index(report.rows[0].poison) + 1 :]
    drifted = {(row.field, row.rule, json.dumps(row.value, default=repr)) for row in report.rows if row.drifted}
    expected = {
        (row.field, row.rule, json.dumps(row.value, default=repr))
        for row in report.rows
        if row.expected == "reject" and row.field in after_poison
    }
    assert drifted == expected and expected


def test_a_success_answer_to_a_poisoned_request_is_flagged_and_stops_the_probe() -> None:
    sent: list[httpx.Request] = []

    def accept_everything(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"status": "PENDING", "error": None, "task_id": "t"})

    report = probe_with(accept_everything, Pacing(task_timeout=4, poll_interval=2), sleep=lambda seconds: None)
    submits = [request for request in sent if request.url.path.endswith("/getImagetoImage")]
    # Queued, so polled until the task timeout: it never finished, so a job may be running.
    assert len(submits) == 1 and len(sent) == 4 and report.drifted
    assert report.rows[0].verdict.startswith("DRIFT: accepted a request with a missing required field")
    assert len(report.rows) == 1 and report.planned == len(probe(FAITHFUL()).rows)
    assert report.stopped is not None and f"stopped after 1 of {report.planned}" in report.table()


def test_a_gateways_502_and_504_on_a_poll_are_polled_past_to_the_tasks_refusal() -> None:
    gateway = [httpx.Response(502, text="Bad Gateway"), httpx.Response(504, text="Gateway Timeout")]
    queued: list[httpx.Request] = []

    def queue_the_first(request: httpx.Request) -> httpx.Response:
        if not queued:
            queued.append(request)
            return httpx.Response(200, json={"status": "PENDING", "error": None, "task_id": "t"})
        if json.loads(request.content) == {"id": "t"}:
            # The gateway twice, then the task's refusal of the request that queued it.
            return gateway.pop(0) if gateway else rejection(queued[0])
        return rejection(request)

    report = probe_with(queue_the_first, Pacing(task_timeout=60, poll_interval=2), sleep=lambda seconds: None)

    assert not gateway and report.stopped is None
    assert report.rows[0].observed_status == 422 and report.rows[0].verdict == "ok"


def test_a_gateway_answering_every_poll_leaves_the_task_unfinished_not_refused() -> None:
    def queue_everything(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content) == {"id": "t"}:
            return httpx.Response(504, text="Gateway Timeout")
        return httpx.Response(200, json={"status": "PENDING", "error": None, "task_id": "t"})

    report = probe_with(queue_everything, Pacing(task_timeout=4, poll_interval=2), sleep=lambda seconds: None)

    # It may still be running a job: the probe stops, and says what the last poll met.
    assert report.rows[0].poison_accepted and report.stopped is not None
    assert "still unfinished after 4 s (the last poll answered HTTP 504 by the gateway)" in report.rows[0].verdict


@pytest.mark.parametrize(
    ("status", "answer", "stops"),
    [
        (401, {"json": {"status": "FAILED", "error": "Invalid API Key"}}, True),
        (500, {"text": "Internal Server Error"}, False),
    ],
)
def test_an_answer_that_is_not_a_422_is_an_error_row(status: int, answer: dict[str, Any], stops: bool) -> None:
    report = probe_with(lambda request: httpx.Response(status, **answer))
    assert report.rows[0].observed == "error"
    refused = "the API refused the token (HTTP 401)" if status == 401 else f"HTTP {status} where the contract says 422"
    assert report.rows[0].verdict == f"DRIFT: {refused}"
    assert (report.stopped is not None) is stops


def test_a_target_that_does_not_answer_stops_the_probe_after_one_try() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    report = probe_with(refuse)
    assert report.rows[0].observed_status is None and "no answer: ConnectError" in report.rows[0].verdict
    assert report.stopped == "the API did not answer"


@pytest.mark.parametrize(
    "shape",
    [
        lambda fields: {"error": "Validation error", "error_data": {"errors": [{"field": f} for f in fields]}},
        lambda fields: {"detail": [{"loc": ["body", f], "msg": "required"} for f in fields]},
    ],
    ids=["backend-2024-errors", "fastapi-detail"],
)
def test_older_error_shapes_still_yield_the_bounds(shape: Callable[[list[str]], dict[str, Any]]) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(422, json=shape([name for name in FIELDS[:4] if name not in body]))

    report = probe_with(answer)
    app_id_absent = next(row for row in report.rows if row.field == FIELDS[0] and row.value is ABSENT)
    assert app_id_absent.observed == "reject" and app_id_absent.verdict == "ok"


def test_min_interval_spaces_the_requests() -> None:
    waits: list[float] = []
    report = probe_with(rejection, Pacing(min_interval=0.5), sleep=waits.append)
    assert len(waits) == len(report.rows) - 1 and all(0 < wait <= 0.5 for wait in waits)


def test_the_probe_runs_over_a_socket_against_a_live_drifted_fake() -> None:
    with live(DRIFTS["batch_max_widened"]) as server:
        report = run_probe(Target(server.url, token=TOKEN))
    assert [(row.field, row.rule) for row in report.rows if row.drifted] == [("batch", "maximum")]


def test_the_probe_finds_no_drift_over_a_socket_against_the_live_faithful_fake() -> None:
    with LiveServer(CONFIG) as server:
        assert not run_probe(Target(server.url, token=TOKEN)).drifted


# What the backend really does differently from the documented rules (docs/fidelity.md): lax types, wider ranges,
# and no check of the image URL's syntax. A probe of a production-like API must report these, and only these.
PRODUCTION_DRIFTS = {
    ("image", "type"),
    ("image", "pattern"),
    ("batch", "type"),
    ("height", "type"),
    ("height", "minimum"),
    ("height", "maximum"),
    ("width", "type"),
    ("width", "minimum"),
    ("width", "maximum"),
    ("num_inference_steps", "type"),
    ("guidance_scale", "type"),
    ("guidance_scale", "minimum"),
    ("strength", "type"),
    ("celery", "type"),
}


def production(**config: Any) -> ASGIApp:
    return create_app(Config(fidelity="production", tokens=frozenset({TOKEN}), **config))


@pytest.fixture(scope="module")
def production_report() -> ProbeReport:
    return probe(production())


def test_a_production_like_api_drifts_only_where_its_rules_differ_never_for_its_dialect(
    production_report: ProbeReport,
) -> None:
    assert {(row.field, row.rule) for row in production_report.rows if row.drifted} == PRODUCTION_DRIFTS
    assert all(row.observed in ("accept", "reject") for row in production_report.rows), production_report.table()


def test_each_refusal_says_where_and_in_which_dialect(production_report: ProbeReport) -> None:
    refused = {
        (row.field, row.rule, row.where, row.dialect) for row in production_report.rows if row.observed == "reject"
    }
    assert ("batch", "maximum", "at poll", "pydantic") in refused  # queued probes fail when polled
    assert ("inference_type", "enum", "at once", "backend") in refused  # APIInput, before any job
    assert ("app_id", "enum", "at once", "backend") in refused  # an unknown app id
    assert "7 at once (backend), 1 at once (fastapi), 17 at poll (pydantic)" in production_report.table()


def test_a_safe_probe_of_production_makes_no_image_though_it_invokes_jobs() -> None:
    app = production()
    report = probe(app)
    backend = app.state.backend
    assert report.stopped is None and len(report.rows) == report.planned
    assert len(backend.outputs) == 0  # every queued probe failed in the job: nothing was generated
    assert len(backend.default.tasks) > 0  # ...but jobs were invoked: this is what free mode avoids


def test_a_free_probe_of_production_reaches_no_job_and_judges_the_request_level_rules() -> None:
    app = production()
    with handle(app) as mock:
        report = run_probe(TARGET, transport=mock.transport(), free=True)
    submits = [e for e in app.state.backend.default.journal if e.path.endswith("/getImagetoImage")]
    judged = {(row.field, row.rule) for row in report.rows if row.observed in ("accept", "reject")}

    assert {e.status for e in submits} == {500} and len(app.state.backend.default.tasks) == 0
    assert {field for field, _ in judged} == {"celery", "inference_type", "ref_id", "id"}  # a status read is free
    assert [(row.field, row.rule) for row in report.rows if row.drifted] == [("celery", "type")]
    assert "not reached" in report.table() and "Free mode" in report.table()


def test_a_free_probe_of_the_contract_judges_every_row() -> None:
    with handle(FAITHFUL()) as mock:
        report = run_probe(TARGET, transport=mock.transport(), free=True)
    assert not report.drifted and all(row.observed == row.expected for row in report.rows)


def test_the_probe_reads_production_over_a_socket() -> None:
    with LiveServer(Config(fidelity="production", tokens=frozenset({TOKEN}))) as server:
        report = run_probe(Target(server.url, token=TOKEN))
    assert {(row.field, row.rule) for row in report.rows if row.drifted} == PRODUCTION_DRIFTS


def test_a_refused_token_in_production_words_stops_the_probe() -> None:
    with handle(production()) as mock:
        report = run_probe(Target("http://testserver", token="sk-not-the-key"), transport=mock.transport())
    assert len(report.rows) == 1 and report.stopped == "the API refused the token (HTTP 500)"


def test_the_status_request_is_probed_on_each_required_field_left_out_and_of_the_wrong_type(
    faithful_report: ProbeReport,
) -> None:
    status_rows = [row for row in faithful_report.rows if row.operation == STATUS]
    required = [rule.name for rule in field_rules(STATUS) if rule.required]
    assert required and [(row.field, row.rule) for row in status_rows] == [
        (name, kind) for name in required for kind in ("required", "type")
    ]
    assert all(row.expected == row.observed == "reject" and row.poison == "" for row in status_rows)
    assert any(line.startswith("/getImage id") and line.endswith("ok") for line in faithful_report.table().splitlines())


def _status_id_defaulted(exchange: Exchange) -> None:
    # A status read without an id is answered as a read of a made-up one, instead of a 422.
    if exchange.path.endswith("/getImage") and isinstance(exchange.request, dict) and "id" not in exchange.request:
        exchange.status, exchange.body = 200, envelope.pending_status(task_id="made-up", echo={})


def test_a_status_request_that_no_longer_needs_its_id_drifts_on_that_row_only() -> None:
    report = probe(DriftedApp(FAITHFUL(), response=_status_id_defaulted))
    assert [(row.operation, row.field, row.rule, row.observed) for row in report.rows if row.drifted] == [
        (STATUS, "id", "required", "accept")
    ]
    assert report.stopped is None  # a status read starts no job, so an accepted one is no reason to stop


def test_production_refuses_the_status_rows_at_once_in_its_own_dialects(production_report: ProbeReport) -> None:
    status_rows = {
        (row.field, row.rule, row.observed, row.where, row.dialect)
        for row in production_report.rows
        if row.operation == STATUS
    }
    assert status_rows == {
        ("id", "required", "reject", "at once", "backend"),
        ("id", "type", "reject", "at once", "fastapi"),
    }


@contextmanager
def silent_target() -> Iterator[str]:
    """A socket that takes connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_the_probe_gives_up_on_a_silent_target_after_its_request_timeout() -> None:
    with silent_target() as url:
        report = run_probe(Target(url, token=SECRET), Pacing(request_timeout=0.2))
    assert report.stopped == "the API did not answer" and len(report.rows) == 1
    assert "no answer: ReadTimeout" in report.rows[0].verdict


def test_probe_request_timeout_is_honoured_on_a_silent_target(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QOLABA_PROBE_KEY", SECRET)
    with silent_target() as url:
        code = main(["probe", "--base-url", url, "--token-env", "QOLABA_PROBE_KEY", "--request-timeout", "0.2"])
    assert code == 2
    assert capsys.readouterr().err == f"qolaba-mock: error: cannot reach {url}: no answer within 0.2 s (ReadTimeout)\n"


def test_probe_progress_is_one_stderr_line_when_stderr_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QOLABA_PROBE_KEY", TOKEN)
    with LiveServer(CONFIG) as server:
        assert main(["probe", "--base-url", server.url, "--token-env", "QOLABA_PROBE_KEY"]) == 0
    err = capsys.readouterr().err
    planned = len(probe(FAITHFUL()).rows)
    assert [line for line in err.splitlines() if line.startswith("probe: ")] == [
        f"probe: {planned} requests, each one the contract refuses"
    ]
    assert "\r" not in err
