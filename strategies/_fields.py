"""One model per request field: valid values, documented edges and values just outside, all read from the contract."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from contracts.spec.schema import STATUS, SUBMIT, FieldRule, field_rules, request_schema
from strategies._bounds import (
    Edge,
    int_high,
    int_low,
    integer_edges,
    just_outside,
    lower_bound,
    number_edges,
    number_values,
    upper_bound,
)
from strategies._urls import image_urls


@dataclass(frozen=True)
class FieldModel:
    """Everything the strategies know about one field."""

    rule: FieldRule
    values: SearchStrategy[Any]
    edges: tuple[Edge, ...]
    outside: tuple[tuple[str, Any], ...]  # (keyword broken, value) just outside each bound
    validator: jsonschema_rs.Validator

    @property
    def name(self) -> str:
        return self.rule.name

    def accepts(self, value: Any) -> bool:
        return self.validator.is_valid(value)

    def complaint(self, value: Any) -> str:
        """Why the contract refuses `value`, in the validator's words."""
        return "; ".join(error.message for error in self.validator.iter_errors(value))


@functools.cache
def models(operation_id: str) -> Mapping[str, FieldModel]:
    """The model of every field of an operation's request body, in contract order."""
    properties = request_schema(operation_id)["properties"]
    return {rule.name: field_model(rule, properties[rule.name]) for rule in field_rules(operation_id)}


def field_model(rule: FieldRule, schema: Mapping[str, Any]) -> FieldModel:
    """Build a field's model from its rule and its JSON Schema (the schema only validates)."""
    validator = jsonschema_rs.validator_for(dict(schema))
    if rule.type == "integer":
        low, high = lower_bound(rule), upper_bound(rule)
        values: SearchStrategy[Any] = st.integers(int_low(low), int_high(high))
        edges = integer_edges(int_low(low), int_high(high))
    elif rule.type == "number":
        values, edges = number_values(rule), number_edges(rule)
    elif rule.type == "boolean":
        values, edges = st.booleans(), (Edge("false", False), Edge("true", True))
    elif rule.enum is not None:
        values, edges = st.sampled_from(rule.enum), tuple(Edge(f"enum {m!r}", m) for m in rule.enum)
    elif rule.pattern is not None and (urls := image_urls(validator.is_valid)) is not None:
        values, edges = urls, ()
    elif rule.pattern is not None:
        # Python's `re` and the contract's ECMA-262 regexes differ at the margins; the validator decides.
        regex = st.from_regex(rule.pattern, fullmatch=True, alphabet=st.characters(codec="ascii"))
        values, edges = regex.filter(validator.is_valid), ()
    else:
        values, edges = st.text(), ()
    outside = tuple(
        (keyword, value) for keyword, value in just_outside(rule) if _breaks_only(validator, value, keyword)
    )
    return FieldModel(rule, values, edges, outside, validator)


def _breaks_only(validator: jsonschema_rs.Validator, value: Any, keyword: str) -> bool:
    # When `minimum` and `exclusiveMinimum` overlap a value may break both; such a value names no one rule.
    kinds = [type(error.kind).__name__ for error in validator.iter_errors(value)]
    return kinds == [keyword[0].upper() + keyword[1:]]


# Read the contract at import: one the strategies cannot follow fails here, not in the middle of a test.
models(SUBMIT)
models(STATUS)
