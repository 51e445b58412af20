"""What the plugin costs a pytest session that never uses Hypothesis, and what it leaves alone in one that does."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

# Written by the user's conftest as the session ends, after every plugin's terminal summary has run.
REPORT_IMPORTS = """
import sys

def pytest_unconfigure(config):
    with open("imports.txt", "w") as out:
        out.write("hypothesis imported" if "hypothesis" in sys.modules else "hypothesis not imported")
"""


@pytest.fixture
def user(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(REPORT_IMPORTS)
    # schemathesis's own plugin (the contract extra) imports Hypothesis in every session: a user without the
    # extra never has it.
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider -p no:xdist -p no:schemathesis\n")
    return pytester


def test_a_session_without_hypothesis_never_imports_it(user: pytest.Pytester) -> None:
    user.makepyfile(test_user="def test_nothing_of_ours():\n    assert 1 + 1 == 2\n")

    result = user.runpytest_subprocess()

    result.assert_outcomes(passed=1)
    assert (user.path / "imports.txt").read_text() == "hypothesis not imported"


def test_without_our_plugin_hypothesis_imports_itself_in_every_session(user: pytest.Pytester) -> None:
    # The cost the plugin saves: Hypothesis's own summary imports it, used or not. If a Hypothesis release stops
    # doing so, this fails, and the workaround in `pytest_sessionfinish` can go.
    user.makepyfile(test_user="def test_nothing_of_ours():\n    assert 1 + 1 == 2\n")

    result = user.runpytest_subprocess("-p", "no:qolaba_mock")

    result.assert_outcomes(passed=1)
    assert (user.path / "imports.txt").read_text() == "hypothesis imported"


def test_a_session_using_hypothesis_keeps_its_statistics(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
from hypothesis import given, settings, strategies as st

@settings(max_examples=5, database=None)
@given(st.integers())
def test_integers(n):
    assert isinstance(n, int)
"""
    )

    result = user.runpytest_subprocess("--hypothesis-show-statistics")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*Hypothesis Statistics*"])


def test_a_failing_property_still_gets_hypothesis_s_report(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
from hypothesis import given, settings, strategies as st

@settings(max_examples=20, database=None, derandomize=True)
@given(st.integers())
def test_small(n):
    assert n < 10
"""
    )

    result = user.runpytest_subprocess()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Failing test case: test_small(*"])
    assert (user.path / "imports.txt").read_text() == "hypothesis imported"
