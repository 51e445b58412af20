from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

from contracts import SUBMIT, FieldRule, field_rule, field_rules
from strategies import RULES, InvalidRequest, invalid_face_requests

BOUND_RULES = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def rules_of(rule: FieldRule) -> set[str]:
    """Every rule the contract states for a field, as the strategies name them."""
    named = {"null", "type"} | ({"required"} if rule.required else set())
    stated = {
        "minimum": rule.minimum,
        "maximum": rule.maximum,
        "exclusiveMinimum": rule.exclusive_minimum,
        "exclusiveMaximum": rule.exclusive_maximum,
        "enum": rule.enum,
        "pattern": rule.pattern,
    }
    return named | {name for name, value in stated.items() if value is not None}


EVERY_RULE = sorted((rule.name, name) for rule in field_rules(SUBMIT) for name in rules_of(rule))


def expected_errors(invalid: InvalidRequest) -> set[tuple[str, str]]:
    expected: set[tuple[str, str]] = {(invalid.field, invalid.rule)}
    # A non-string for an enum field also fails `enum` (the contract's enum admits only its strings).
    if invalid.rule in ("type", "null") and field_rule(SUBMIT, invalid.field).enum is not None:
        expected.add((invalid.field, "enum"))
    return expected


@given(invalid_face_requests())
def test_each_example_breaks_exactly_the_rule_it_names(submit_errors: Any, invalid: InvalidRequest) -> None:
    assert set(submit_errors(invalid.body)) == expected_errors(invalid), str(invalid)


@pytest.mark.parametrize(("field", "rule"), EVERY_RULE)
def test_every_rule_of_every_field_can_be_broken_alone(submit_errors: Any, field: str, rule: str) -> None:
    broken: list[InvalidRequest] = []

    @settings(max_examples=10, database=None)
    @given(invalid_face_requests(fields=[field], rules=[rule]))
    def check(invalid: InvalidRequest) -> None:
        assert (invalid.field, invalid.rule) == (field, rule)
        assert set(submit_errors(invalid.body)) == expected_errors(invalid), str(invalid)
        broken.append(invalid)

    check()
    assert broken


def test_every_rule_the_contract_states_has_a_name() -> None:
    assert {name for _, name in EVERY_RULE} <= set(RULES)
    assert set(RULES) == {"required", "null", "type", *BOUND_RULES, "enum", "pattern"}


@given(invalid_face_requests(rules=BOUND_RULES))
def test_bound_violations_are_one_step_outside(submit_errors: Any, invalid: InvalidRequest) -> None:
    value = invalid.body[invalid.field]
    rule = field_rule(SUBMIT, invalid.field)
    inward = math.inf if invalid.rule in ("minimum", "exclusiveMinimum") else -math.inf
    bound = {
        "minimum": rule.minimum,
        "maximum": rule.maximum,
        "exclusiveMinimum": rule.exclusive_minimum,
        "exclusiveMaximum": rule.exclusive_maximum,
    }[invalid.rule]
    if invalid.rule.startswith("exclusive"):
        # The bound itself, or one ulp past it.
        assert value == bound or math.nextafter(value, inward) == bound
    else:
        step = value + (1 if inward > 0 else -1) if rule.type == "integer" else math.nextafter(value, inward)
        assert submit_errors({**invalid.body, invalid.field: step}) == []


@given(invalid_face_requests(batch=4, strength=0.5))
def test_pinned_fields_are_never_broken(invalid: InvalidRequest) -> None:
    assert invalid.field not in ("batch", "strength")
    assert (invalid.body["batch"], invalid.body["strength"]) == (4, 0.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fields": ["bacth"]}, r"fields=\['bacth'\]\): unknown \['bacth'\]"),
        ({"rules": ["max"]}, r"rules=\['max'\]\): unknown \['max'\]"),
        ({"fields": "batch"}, r"fields='batch'\) must be a collection of names"),
        ({"fields": ["prompt"], "rules": ["maximum"]}, "leaves no rule to break"),
        ({"batch": 0}, r"invalid_face_requests\(batch=0\)"),
    ],
)
def test_bad_arguments_fail_early_naming_them(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        invalid_face_requests(**kwargs)


def test_an_invalid_request_says_what_it_breaks() -> None:
    assert str(InvalidRequest({"batch": 9}, "batch", "maximum")) == "batch=9 breaks maximum"
    assert str(InvalidRequest({}, "image", "required")) == "image is missing (required)"
