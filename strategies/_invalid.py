"""Invalid request bodies, each breaking exactly one named rule of the contract, built directly."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, get_args

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from contracts.spec.schema import SUBMIT
from strategies._bounds import int_high, int_low, lower_bound, upper_bound
from strategies._fields import FieldModel, models
from strategies._urls import broken_image_urls
from strategies._valid import pins_for, request_bodies

Rule = Literal[
    "required", "null", "type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "pattern"
]
RULES: tuple[Rule, ...] = get_args(Rule)


@dataclass(frozen=True)
class InvalidRequest:
    """A submit body that breaks one rule of the contract, and which.

    `rule` is the JSON Schema keyword broken (`required`, `type`, `minimum`, `maximum`,
    `exclusiveMinimum`, `exclusiveMaximum`, `enum`, `pattern`), or `null` for a null value, which
    JSON Schema reports as `type`. On a field with an `enum`, a value of another type (or null)
    also fails `enum`: the contract admits only its strings, so one mistake reads as two errors,
    both on `field`.

    Usage:
        @given(strategies.invalid_face_requests())
        def test_rejected(invalid):
            response = send(invalid.body)
            assert invalid.field in {entry["field"] for entry in response.json()["error_data"]}
    """

    body: dict[str, Any]
    field: str
    rule: Rule

    def __str__(self) -> str:
        if self.rule == "required":
            return f"{self.field} is missing (required)"
        return f"{self.field}={self.body[self.field]!r} breaks {self.rule}"


@dataclass(frozen=True)
class _Violation:
    field: str
    rule: Rule
    values: SearchStrategy[Any] | None  # None: leave the field out


def invalid_face_requests(
    *, fields: Collection[str] | None = None, rules: Collection[str] | None = None, **fixed: object
) -> SearchStrategy[InvalidRequest]:
    """`/getImagetoImage` bodies that break exactly one rule of the contract, as `InvalidRequest`s.

    A valid body (as `face_requests(**fixed)`) with one field changed: one step outside a bound (by
    1 for integers, one ulp for numbers, or the bound itself when exclusive), a wrong type (`True`
    for numbers, `0`/`1` for booleans, `"512"` for numbers, a number for strings, a one-item list),
    null, left out when required, an unknown enum value (`"A10G"`, `"a10g "`), or a string the
    image pattern refuses (`"ftp://…"`, `"data:image/png;base64,…"`). Restrict with `fields=` and
    `rules=`; pinned fields are never broken. Examples shrink towards the first field of the contract
    and its first rule.

    Example:
        @given(strategies.invalid_face_requests(rules={"maximum", "exclusiveMinimum"}))
        def test_client_reports_the_field(invalid): ...
    """
    pins = pins_for("invalid_face_requests", SUBMIT, fixed)
    table = [v for model in models(SUBMIT).values() if model.name not in pins for v in _violations(model)]
    if fields is not None:
        _check_names("fields", fields, models(SUBMIT))
        table = [v for v in table if v.field in fields]
    if rules is not None:
        _check_names("rules", rules, RULES)
        table = [v for v in table if v.rule in rules]
    if not table:
        raise InvalidArgument(
            f"invalid_face_requests(fields={fields!r}, rules={rules!r}) leaves no rule to break "
            f"(pinned: {', '.join(pins) or 'none'})"
        )
    return _broken(request_bodies(SUBMIT, pins), tuple(table))


def _check_names(argument: str, given: Collection[str], known: Collection[str]) -> None:
    if isinstance(given, str):
        raise InvalidArgument(f"invalid_face_requests({argument}={given!r}) must be a collection of names, not a str")
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidArgument(
            f"invalid_face_requests({argument}={sorted(given)!r}): unknown {unknown!r}; expected some of {list(known)}"
        )


@st.composite
def _broken(draw: st.DrawFn, bodies: SearchStrategy[dict[str, Any]], table: tuple[_Violation, ...]) -> InvalidRequest:
    violation = draw(st.sampled_from(table))
    body = draw(bodies)
    if violation.values is None:
        body.pop(violation.field, None)
    else:
        body[violation.field] = draw(violation.values)
    return InvalidRequest(body, violation.field, violation.rule)


def _violations(model: FieldModel) -> list[_Violation]:
    name, rule = model.name, model.rule
    found = [_Violation(name, "required", None)] if rule.required else []
    found += [_Violation(name, "null", st.none()), _Violation(name, "type", _wrong_types(model))]
    for keyword in dict.fromkeys(keyword for keyword, _ in model.outside):
        values = [value for broken, value in model.outside if broken == keyword]
        found.append(_Violation(name, _rule(keyword), st.sampled_from(values)))
    if rule.enum is not None:
        found.append(_Violation(name, "enum", _unknown_members(rule.enum)))
    if rule.pattern is not None:
        refused = broken_image_urls(model.accepts)
        if not refused.is_empty:
            found.append(_Violation(name, "pattern", refused))
    return found


def _rule(keyword: str) -> Rule:
    if keyword not in RULES:
        raise ValueError(f"keyword={keyword!r} is not a rule the strategies name")
    return keyword


def _wrong_types(model: FieldModel) -> SearchStrategy[Any]:
    """Values of another JSON type; none of them can trip a range or pattern keyword."""
    as_list = model.values.map(lambda value: [value])
    if model.rule.type in ("integer", "number"):
        kinds = [st.booleans(), model.values.map(str), as_list]
        low, high = int_low(lower_bound(model.rule)), int_high(upper_bound(model.rule))
        if model.rule.type == "integer" and low is not None and high is not None and low < high:
            # Inside the range, so only `type` breaks: 1.5 steps is not an integer (8.0 would be).
            kinds.append(st.integers(low, high - 1).map(lambda value: value + 0.5))
        return st.one_of(kinds)
    if model.rule.type == "boolean":
        return st.one_of(st.sampled_from([0, 1]), st.sampled_from(["true", "false"]), as_list)
    return st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), as_list)


def _unknown_members(members: tuple[str, ...]) -> SearchStrategy[str]:
    """Strings outside the enum, most of them one slip away from a member."""
    known = frozenset(members)

    def outside(candidate: str) -> str:
        while candidate in known:
            candidate += "~"
        return candidate

    one = st.sampled_from(members)
    slips = st.one_of(one.map(str.upper), one.map(lambda m: m + " "), one.map(lambda m: m[:-1]), st.text())
    return slips.map(outside)
