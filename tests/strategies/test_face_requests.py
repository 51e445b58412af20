from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from contracts import SUBMIT, field_rule, field_rules
from strategies import face_requests

OPTIONAL = [rule.name for rule in field_rules(SUBMIT) if not rule.required]
REQUIRED = [rule.name for rule in field_rules(SUBMIT) if rule.required]


@given(face_requests())
def test_every_body_is_valid_for_the_contract(submit_errors: Any, body: dict[str, Any]) -> None:
    assert submit_errors(body) == []
    assert set(REQUIRED) <= set(body)


@given(face_requests())
def test_numbers_are_finite_and_integers_are_never_booleans(body: dict[str, Any]) -> None:
    for rule in field_rules(SUBMIT):
        if rule.name not in body or rule.type not in ("integer", "number"):
            continue
        value = body[rule.name]
        assert type(value) is int or (rule.type == "number" and type(value) is float), (rule.name, value)
        assert math.isfinite(value)


@given(face_requests())
def test_every_image_url_matches_the_contract_pattern(body: dict[str, Any]) -> None:
    pattern = field_rule(SUBMIT, "image").pattern
    assert pattern is not None
    assert re.search(pattern, body["image"]), body["image"]
    assert body["image"].startswith(("https://", "http://"))


def test_optional_fields_are_sometimes_present_and_sometimes_absent() -> None:
    present: dict[str, set[bool]] = {name: set() for name in OPTIONAL}

    @seed(0)
    @settings(max_examples=100, database=None, derandomize=False)
    @given(face_requests())
    def record(body: dict[str, Any]) -> None:
        for name in OPTIONAL:
            present[name].add(name in body)

    record()
    assert present == {name: {True, False} for name in OPTIONAL}


@given(face_requests(batch=3, celery=True, inference_type="h100"))
def test_a_pinned_value_appears_in_every_body(body: dict[str, Any]) -> None:
    assert (body["batch"], body["celery"], body["inference_type"]) == (3, True, "h100")


@given(face_requests(height=st.sampled_from([512, 768]), guidance_scale=st.just(7.5)))
def test_a_field_strategy_replaces_the_contract_range(body: dict[str, Any]) -> None:
    assert body["height"] in (512, 768)
    assert body["guidance_scale"] == 7.5


@pytest.mark.parametrize(
    ("fixed", "named"),
    [
        ({"batch": 99}, "face_requests(batch=99)"),
        ({"strength": 0}, "face_requests(strength=0)"),
        ({"celery": 0}, "face_requests(celery=0)"),
        ({"batch": True}, "face_requests(batch=True)"),
        ({"app_id": "ap-unknown"}, "face_requests(app_id='ap-unknown')"),
        ({"image": "ftp://example.com/face.jpg"}, "face_requests(image='ftp://example.com/face.jpg')"),
        ({"ref_id": None}, "face_requests(ref_id=None)"),
    ],
)
def test_pinning_a_value_outside_the_contract_fails_early_naming_the_argument(
    fixed: dict[str, object], named: str
) -> None:
    with pytest.raises(InvalidArgument, match=re.escape(named)):
        face_requests(**fixed)


def test_an_unknown_field_name_fails_early_listing_the_known_ones() -> None:
    with pytest.raises(InvalidArgument, match=r"face_requests\(bacth=\.\.\.\).*expected one of app_id, image"):
        face_requests(bacth=3)


def test_a_field_strategy_that_leaves_the_contract_fails_naming_the_field() -> None:
    @settings(max_examples=5, database=None)
    @given(face_requests(batch=st.just(99)))
    def draw(body: dict[str, Any]) -> None:
        raise AssertionError("unreachable: the strategy must refuse batch=99")

    with pytest.raises(InvalidArgument, match=r"face_requests\(batch=<strategy>\) drew 99"):
        draw()
