"""The WHEN part of a fault spec: parsed once, and held to the grammar even when built by hand."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockserver.behaviour.fault_schedules import FaultError, Schedule, parse_when


@pytest.mark.parametrize(
    ("kind", "arguments", "message"),
    [
        ("every", {"numbers": (0,)}, "every needs whole numbers >= 1"),
        ("nth", {"numbers": ()}, "nth needs whole numbers >= 1"),
        ("first", {"numbers": (1, 2)}, "first needs whole numbers >= 0"),
        ("p", {"probability": 1.5}, "probability must be between 0 and 1"),
    ],
)
def test_a_schedule_built_by_hand_is_held_to_the_grammar(kind: str, arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(FaultError, match=message):
        Schedule(kind, **arguments)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "schedule"),
    [
        ("always", Schedule("always")),
        ("0.25", Schedule("p", probability=0.25)),
        ("p=1", Schedule("p", probability=1.0)),
        ("every:3", Schedule("every", numbers=(3,))),
        ("nth: 5, 2,5", Schedule("nth", numbers=(2, 5))),
        ("first:0", Schedule("first", numbers=(0,))),
    ],
)
def test_a_when_text_parses_to_its_schedule(text: str, schedule: Schedule) -> None:
    assert parse_when(text, "fault='x'") == schedule


def test_a_bad_when_text_is_refused_starting_with_where_it_came_from() -> None:
    with pytest.raises(FaultError) as raised:
        parse_when("sometimes", "fault='reset:sometimes'")
    assert str(raised.value).startswith("fault='reset:sometimes' has WHEN 'sometimes'; expected a probability")


def test_a_schedule_fires_on_its_counts_and_a_probability_draws_from_the_rng() -> None:
    rng = random.Random(3)
    assert [Schedule("nth", numbers=(2, 4)).fires(n, rng) for n in range(1, 6)] == [False, True, False, True, False]
    assert [Schedule("p", probability=0.0).fires(n, rng) for n in range(1, 4)] == [False, False, False]
