from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings
from hypothesis.errors import InvalidArgument

from strategies import PROFILES, load_profile, register_profiles


@pytest.fixture
def restore_profile() -> Iterator[None]:
    previous = settings.get_current_profile_name()
    yield
    settings.load_profile(previous)


def test_the_profiles_are_dev_ci_and_thorough() -> None:
    register_profiles()
    assert PROFILES == ("dev", "ci", "thorough")
    for name in PROFILES:
        assert settings.get_profile(name) is not None


def test_ci_stays_derandomized_without_a_database_and_runs_fewer_examples() -> None:
    register_profiles()
    ci = settings.get_profile("ci")
    assert ci.derandomize is True
    assert ci.database is None
    assert ci.deadline is None
    assert ci.max_examples < settings.get_profile("default").max_examples


def test_dev_is_quicker_and_thorough_is_slower_than_the_default() -> None:
    register_profiles()
    default = settings.get_profile("default").max_examples
    assert settings.get_profile("dev").max_examples < default < settings.get_profile("thorough").max_examples


def test_registering_twice_changes_nothing() -> None:
    register_profiles()
    before = {name: repr(settings.get_profile(name)) for name in PROFILES}
    register_profiles()
    assert {name: repr(settings.get_profile(name)) for name in PROFILES} == before


@pytest.mark.usefixtures("restore_profile")
def test_load_profile_makes_a_profile_current() -> None:
    load_profile("thorough")
    assert settings.get_current_profile_name() == "thorough"
    assert settings.default is not None
    assert settings.default.max_examples == settings.get_profile("thorough").max_examples


def test_an_unknown_profile_fails_naming_the_known_ones() -> None:
    with pytest.raises(InvalidArgument, match=r"load_profile\(name='fast'\) must be one of dev, ci, thorough"):
        load_profile("fast")


def test_this_suite_runs_with_a_profile_loaded_and_no_deadline() -> None:
    # tests/conftest.py loads `ci` under CI and `dev` otherwise: a busy machine must not fail a property.
    assert settings.default is not None and settings.default.deadline is None


@pytest.mark.parametrize("name", PROFILES)
def test_no_profile_has_a_deadline(name: str) -> None:
    register_profiles()
    assert settings.get_profile(name).deadline is None
