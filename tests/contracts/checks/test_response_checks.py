"""The contract's own schemathesis checks, each shown to pass a faithful answer and to name a broken one."""

from __future__ import annotations

import datetime
import json
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis.core.failures import FailureGroup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from contracts import STATUS, SUBMIT, checks, field_rules, load_schema
from contracts.checks import followup_checks
from contracts.client.polling import PollSettings
from mockserver import Config, create_app
from tests.conftest import AUTH, TOKEN, valid_body

SUCCESS_OUTPUT = {
    "result": ["https://cdn.example/a.webp"],
    "Has_NSFW_Content": [False],
    "low_res_urls": ["https://cdn.example/a-low.webp"],
}


def envelope(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "time_required": {"startup_time": 0, "runtime": 18.4},
        "error": None,
        "error_data": None,
        "input": valid_body(),
        "output": SUCCESS_OUTPUT,
        "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
        "task_id": None,
        "status": "SUCCESS",
    }
    body.update(overrides)
    return body


def judge(
    check: Any, payload: Any, *, status: int = 200, operation: str = SUBMIT, sent: Any = None, raw: bytes | None = None
) -> list[str]:
    """Run one check on a crafted answer (given to every request, follow-ups included); its failure messages."""
    content = raw if raw is not None else json.dumps(payload).encode()
    media_type = "text/plain" if raw is not None else "application/json"

    async def answer(request: Request) -> Response:
        return Response(content, status_code=status, media_type=media_type)

    schema = schemathesis.openapi.from_dict(load_schema())
    schema.app = Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])
    case = schema.find_operation_by_id(operation).Case(body=sent or valid_body(), media_type="application/json")
    try:
        case.validate_response(case.call(headers=AUTH), checks=[check])
    except FailureGroup as group:
        return [failure.message for failure in group.exceptions]
    return []


def test_envelope_shape_passes_every_documented_envelope() -> None:
    pending = envelope(time_required={}, output={}, task_id="t-1", status="PENDING")
    failed = envelope(time_required={}, output={}, error="Invalid JSON", error_data="x", status="FAILED")
    assert judge(checks.envelope_shape, envelope()) == []
    assert judge(checks.envelope_shape, pending) == []
    assert judge(checks.envelope_shape, failed, status=404) == []


def test_envelope_shape_names_a_dropped_key_and_an_unexpected_one() -> None:
    dropped = envelope()
    del dropped["time_required"]
    assert judge(checks.envelope_shape, dropped) == ["envelope keys differ: missing ['time_required'], unexpected []"]
    assert "unexpected ['progress']" in judge(checks.envelope_shape, envelope(progress=0.5))[0]


def test_envelope_shape_names_a_value_of_the_wrong_type_on_any_status_code() -> None:
    messages = judge(checks.envelope_shape, envelope(status="FAILED", task_id=7), status=503)
    assert messages == ["envelope values of the wrong type: task_id is int, expected null|string"]


def test_envelope_shape_rejects_an_answer_that_is_not_json() -> None:
    assert judge(checks.envelope_shape, None, raw=b"Bad Gateway", status=502) == [
        "HTTP 502 answer is not a JSON envelope object"
    ]


@pytest.mark.parametrize(
    ("status", "payload", "message"),
    [
        (200, envelope(status="Success"), "status 'Success' is not one of ['FAILED', 'PENDING', 'SUCCESS']"),
        (422, envelope(), "HTTP 422 carries status 'SUCCESS', expected 'FAILED'"),
        (200, envelope(status="FAILED", output={}, time_required={}), "status FAILED (HTTP 200) without an `error`"),
        (202, envelope(), "status 'SUCCESS' answered with HTTP 202, expected 200"),
        (200, envelope(error="Oops"), "status 'SUCCESS' carries error 'Oops'"),
    ],
)
def test_status_must_match_the_http_code_and_the_error_fields(status: int, payload: Any, message: str) -> None:
    assert judge(checks.status_matches_http_code, payload, status=status)[0].startswith(message)


def test_a_generation_failure_answered_200_with_failed_and_an_error_conforms() -> None:
    failed = envelope(status="FAILED", error="Face Consistent Error", error_data="no face", output={})
    assert judge(checks.status_matches_http_code, failed) == []


@pytest.mark.parametrize(
    ("output", "batch", "message"),
    [
        ({**SUCCESS_OUTPUT, "result": ["https://a/1", "https://a/2"]}, 1, "2 result URLs but 1 low_res_urls"),
        (
            {
                "result": ["https://a/1", "https://a/2"],
                "Has_NSFW_Content": [False, False],
                "low_res_urls": ["https://a/1", "https://a/2"],
            },
            1,
            "2 images returned for batch=1",
        ),
        ({**SUCCESS_OUTPUT, "Has_NSFW_Content": [True]}, 1, "1 images returned but only 0 not flagged NSFW"),
    ],
)
def test_output_lists_must_agree_with_each_other_and_the_batch(output: Any, batch: int, message: str) -> None:
    messages = judge(checks.output_lists_agree, envelope(output=output), sent=valid_body(batch=batch))
    assert messages == [message]


def test_an_image_dropped_as_nsfw_leaves_fewer_results_than_flags() -> None:
    output = {"result": ["https://a/2"], "Has_NSFW_Content": [True, False], "low_res_urls": ["https://a/2l"]}
    assert judge(checks.output_lists_agree, envelope(output=output), sent=valid_body(batch=2)) == []


def test_the_batch_of_a_polled_task_is_read_from_the_echoed_input() -> None:
    two = {
        "result": ["https://a/1", "https://a/2"],
        "Has_NSFW_Content": [False] * 2,
        "low_res_urls": ["https://a/l"] * 2,
    }
    messages = judge(checks.output_lists_agree, envelope(output=two), operation=STATUS, sent={"id": "t-1"})
    assert messages == ["2 images returned for batch=1"]


def failed_validation(*fields: str) -> dict[str, Any]:
    errors = [{"field": name, "message": "broken"} for name in fields]
    return envelope(status="FAILED", error="Input Validation Error", error_data=errors, output={}, time_required={})


def test_a_422_must_name_every_broken_field_not_only_the_first() -> None:
    sent = valid_body(batch=0, height=99)
    messages = judge(checks.validation_lists_every_broken_field, failed_validation("batch"), status=422, sent=sent)
    assert messages[0] == "the 422 for the request does not name every broken field: ['height'] missing from error_data"


def test_once_per_operation_an_empty_body_must_get_every_required_field_named() -> None:
    sent = valid_body(batch=0)
    every_field = failed_validation(*(rule.name for rule in field_rules(SUBMIT)))
    assert judge(checks.validation_lists_every_broken_field, every_field, status=422, sent=sent) == []
    messages = judge(checks.validation_lists_every_broken_field, failed_validation("batch"), status=422, sent=sent)
    unnamed = sorted(rule.name for rule in field_rules(SUBMIT) if rule.required and rule.name != "batch")
    (message,) = messages
    assert message.startswith(f"the 422 for {{}} does not name every broken field: {unnamed} missing from error_data")
    assert message.endswith(
        '; reproduce with: curl -X POST -H "Authorization: Bearer $TOKEN" '
        "-H 'Content-Type: application/json' -d '{}' http://testserver/api/v1/studio/getImagetoImage"
    )


def test_output_urls_must_be_absolute() -> None:
    relative = {**SUCCESS_OUTPUT, "low_res_urls": ["/outputs/a-low.webp"]}
    assert judge(checks.output_urls_absolute, envelope(output=relative)) == [
        "output.low_res_urls holds '/outputs/a-low.webp', not an absolute http(s) URL"
    ]
    assert judge(checks.output_urls_absolute, envelope()) == []


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (envelope(time_required="18.4s"), "time_required is '18.4s', expected an object"),
        (envelope(time_required={"runtime": 1}), "time_required has keys ['runtime']"),
        (envelope(time_required={"startup_time": 0, "runtime": "18"}), "time_required.runtime is '18'"),
        (envelope(time_required={"startup_time": -1, "runtime": 1}), "time_required.startup_time is -1"),
        (envelope(status="PENDING", output={}, time_required={"runtime": 1}), "time_required is {'runtime': 1}"),
    ],
)
def test_time_required_is_seconds_as_numbers_or_empty(payload: Any, message: str) -> None:
    assert judge(checks.time_required_shape, payload)[0].startswith(message)


def test_the_checks_stay_silent_on_operations_of_other_schemas() -> None:
    other = schemathesis.openapi.from_dict(
        {
            "openapi": "3.1.0",
            "info": {"title": "other", "version": "1"},
            "paths": {"/things": {"get": {"responses": {"200": {"description": "ok"}}}}},
        }
    )
    case = other["/things"]["GET"].Case()
    with httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=[1]))) as client:
        response = client.get("http://other/things")
    response.elapsed = datetime.timedelta(0)
    case.validate_response(response, checks=list(checks.CONTRACT_CHECKS))


def in_process_schema(config: Config) -> Any:
    schema = schemathesis.openapi.from_dict(load_schema())
    schema.app = create_app(config)
    return schema


def test_a_queued_task_is_followed_through_the_link_to_a_terminal_state() -> None:
    schema = in_process_schema(Config(seed=2, tokens=frozenset({TOKEN})))
    case = schema.find_operation_by_id(SUBMIT).Case(body=valid_body(celery=True), media_type="application/json")
    response = case.call(headers=AUTH)
    assert response.json()["status"] == "PENDING"
    case.validate_response(response, checks=[checks.queued_task_reaches_terminal_state])


def test_a_queued_task_that_never_finishes_fails_once_the_deadline_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(followup_checks, "POLL_SETTINGS", PollSettings(deadline=0, interval=0))
    schema = in_process_schema(Config(seed=2, tokens=frozenset({TOKEN}), faults=("task_lost",)))
    case = schema.find_operation_by_id(SUBMIT).Case(body=valid_body(celery=True), media_type="application/json")
    response = case.call(headers=AUTH)
    with pytest.raises(FailureGroup, match="still PENDING after"):
        case.validate_response(response, checks=[checks.queued_task_reaches_terminal_state])


def test_auth_is_enforced_passes_a_fake_that_refuses_unknown_tokens() -> None:
    schema = in_process_schema(Config(seed=2, tokens=frozenset({TOKEN})))
    case = schema.find_operation_by_id(STATUS).Case(body={"id": "t-1"}, media_type="application/json")
    case.validate_response(case.call(headers=AUTH), checks=[checks.auth_is_enforced])


def test_auth_is_enforced_catches_a_fake_that_accepts_any_token_without_sending_a_valid_submit() -> None:
    config = Config(seed=2)  # no token set: any token is accepted
    schema = in_process_schema(config)
    case = schema.find_operation_by_id(SUBMIT).Case(body=valid_body(), media_type="application/json")
    response = case.call(headers=AUTH)
    with pytest.raises(FailureGroup, match="a request with a made-up token got HTTP 422, expected 401"):
        case.validate_response(response, checks=[checks.auth_is_enforced])
    backend = schema.app.state.backend
    probes = backend.namespaces.get().journal.calls_to("/getImagetoImage")[1:]
    assert [entry.status for entry in probes] == [401, 422]  # no header: refused; made-up token: invalid body
