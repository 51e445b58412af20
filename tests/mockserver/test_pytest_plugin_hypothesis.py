"""`@given` with the fake: `qolaba_fake` is session-scoped, so Hypothesis accepts it, and each example's
`with qolaba_fake() as mock:` gets the fake reset and configured for the running test."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider
filterwarnings = error
"""
EVERY_EXAMPLE_STARTS_AFRESH = """
import httpx, pytest
from hypothesis import given, settings, strategies as st

import strategies

AUTH = {"Authorization": "Bearer sk-test"}
SEEN = []


@settings(max_examples=15, database=None, deadline=None)
@given(invalid=strategies.invalid_face_requests(), queued=strategies.face_requests(celery=True))
def test_every_example_gets_a_fresh_fake(qolaba_fake, invalid, queued):
    with qolaba_fake() as mock, httpx.Client(transport=mock.transport(), base_url="http://f", headers=AUTH) as client:
        assert len(mock.journal) == 0 and len(mock.tasks) == 0
        reply = client.post("/getImagetoImage", json=invalid.body)
        client.post("/getImagetoImage", json=queued)  # leaves a task and two journal lines for the next to not see
        SEEN.append(reply.status_code)
        assert reply.status_code == 422
        assert invalid.field in [entry["field"] for entry in reply.json()["error_data"]]


def test_more_than_one_example_ran():
    assert len(SEEN) > 1


@pytest.mark.qolaba(faults=["http_503@status"], seed=3)
@settings(max_examples=3, database=None, deadline=None)
@given(task_id=strategies.task_ids())
def test_the_marker_configures_it(qolaba_fake, task_id):
    with qolaba_fake() as mock, httpx.Client(transport=mock.transport(), base_url="http://f", headers=AUTH) as client:
        assert mock.backend.config.seed == 3
        assert client.post("/getImage", json={"id": task_id}).status_code == 503


@settings(max_examples=3, database=None, deadline=None)
@given(seconds=st.integers(1, 30), body=strategies.face_requests(celery=False))
def test_keywords_configure_one_example(qolaba_fake, seconds, body):
    with qolaba_fake(latency=f"fixed:{seconds}s") as mock:
        with httpx.Client(transport=mock.transport(), base_url="http://fake", headers=AUTH, timeout=60) as client:
            assert client.post("/getImagetoImage", json=body).json()["time_required"]["runtime"] == seconds
    with qolaba_fake() as mock:
        assert mock.namespace.latency_spec == "none"
"""


def test_a_given_test_uses_the_fake_with_no_health_check_to_suppress(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user=EVERY_EXAMPLE_STARTS_AFRESH)

    result = pytester.runpytest("-p", "no:randomly")

    result.assert_outcomes(passed=4)


def test_the_function_scoped_fixture_is_what_hypothesis_refuses(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_user="""
from hypothesis import given
import strategies

@given(invalid=strategies.invalid_face_requests())
def test_with_qolaba_mock(qolaba_mock, invalid):
    pass
"""
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*uses a function-scoped fixture 'qolaba_mock'*"])


def test_a_bad_keyword_fails_its_test_in_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_user="""
def test_bad(qolaba_fake):
    with qolaba_fake(latency="soon"):
        pass

def test_unknown(qolaba_fake):
    with qolaba_fake(sead=1):
        pass
"""
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "latency='soon' is not a latency spec; expected *",
            "qolaba_fake(): sead is not an option; expected keywords seed, latency, *",
        ],
        consecutive=False,
    )
    result.stdout.no_fnmatch_line("*During handling*")
    result.stdout.no_fnmatch_line("*Traceback*")
