"""Each failure of a contract run shows the request whose answer it is about, and that answer's HTTP code."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from contracts import SUBMIT
from contracts.checks.spend_guard import is_valid_request
from contracts.client.target import MADE_UP_TOKEN, TOKEN_PLACEHOLDER, Target
from contracts.run.engine import RunOptions, run_contract
from contracts.run.outcome import FailureRecord, RunOutcome
from contracts.run.report import summary
from mockserver import Config, create_app
from tests.conftest import TOKEN
from tests.contracts.drifted_fakes import DRIFTS

TARGET = Target("http://testserver", token=TOKEN)
FULL = RunOptions(mode="full", max_spend=None, max_examples=5, poll_interval=0.01, task_timeout=0.05)


def run_against(app: object) -> RunOutcome:
    return run_contract(TARGET, FULL, app=app)


@pytest.fixture(scope="module")
def open_door() -> RunOutcome:
    """A fake that takes any token: auth_is_enforced fails, on answers to requests the checks sent themselves."""
    return run_against(create_app(Config(seed=3)))


def failures_of(outcome: RunOutcome, check: str) -> list[FailureRecord]:
    found = [failure for failure in outcome.failures.values() if failure.check == check]
    assert found, summary(outcome)
    return found


def sent_body(curl: str) -> object:
    words = shlex.split(curl)
    return json.loads(words[words.index("-d") + 1]) if "-d" in words else None


def test_an_auth_failure_is_reproduced_with_the_credential_that_was_refused_not_the_token(
    open_door: RunOutcome,
) -> None:
    for failure in failures_of(open_door, "auth_is_enforced"):
        assert TOKEN_PLACEHOLDER not in failure.curl
        assert f"Bearer {MADE_UP_TOKEN}" in failure.curl or "Authorization" not in failure.curl
        assert not is_valid_request(SUBMIT, sent_body(failure.curl))
        assert "reproduce with" not in failure.message  # once, on the reproduce line


def test_the_failure_heading_shows_the_code_of_the_answer_its_message_is_about(open_door: RunOutcome) -> None:
    for failure in failures_of(open_door, "auth_is_enforced"):
        said = re.search(r"got HTTP (\d+)", failure.message)
        assert said is not None and failure.status_code == int(said.group(1)), failure
    text = summary(open_door)
    assert "auth_is_enforced (HTTP 422)" in text  # the made-up token's answer to a body the contract rejects


@pytest.mark.parametrize(
    ("drift", "about_a_valid_submit"),
    # A queued answer without time_required, a task that never ends: about the valid submit itself.
    # An extra image in a finished task: about the status read's answer, which costs nothing.
    [("envelope_key_dropped", True), ("task_never_finishes", True), ("extra_output_image", False)],
)
def test_a_reproduce_line_with_the_token_and_a_body_the_contract_accepts_says_it_costs_a_job(
    drift: str, about_a_valid_submit: bool
) -> None:
    outcome = run_against(DRIFTS[drift].build())
    text = summary(outcome)
    costly = [
        failure
        for failure in outcome.failures.values()
        if TOKEN_PLACEHOLDER in failure.curl
        and "/getImagetoImage" in failure.curl
        and is_valid_request(SUBMIT, sent_body(failure.curl))
    ]
    assert outcome.failures, text
    assert bool(costly) is about_a_valid_submit, text
    for failure in costly:
        assert failure.costs_a_job, failure
        assert f"reproduce (starts a GPU job): {failure.curl}" in text
    free = [failure for failure in outcome.failures.values() if failure not in costly]
    assert all(f"reproduce: {failure.curl}" in text for failure in free)


@pytest.fixture(scope="module")
def lax_production() -> RunOutcome:
    """A production-like API: it takes requests the contract rejects ("2" for 2, wider ranges)."""
    app = create_app(Config(seed=3, fidelity="production", tokens=frozenset({TOKEN}), latency="none"))
    return run_against(app)


def test_a_request_the_contract_rejects_that_the_api_took_is_reproduced_as_starting_a_job(
    lax_production: RunOutcome,
) -> None:
    taken = [f for f in failures_of(lax_production, "refuses_what_the_contract_forbids") if "accepted" in f.message]
    assert taken and all(failure.costs_a_job for failure in taken)
    assert all(f"reproduce (starts a GPU job): {failure.curl}" in summary(lax_production) for failure in taken)


def test_valid_submits_refused_at_once_are_named_in_a_few_words(lax_production: RunOutcome) -> None:
    assert "HTTP 403 Not authenticated" in lax_production.answered_at_once
    assert all(re.fullmatch(r"HTTP \d{3} [A-Z][\w ]+", how) for how in lax_production.answered_at_once), (
        lax_production.answered_at_once
    )
