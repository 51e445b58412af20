"""Numeric ranges as the contract states them: the valid values, their edges, and the values one step outside."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from contracts.spec.schema import FieldRule


@dataclass(frozen=True)
class Edge:
    """A documented edge of one field, e.g. `Edge("next_up(min)", 1.0000000000000002)`."""

    name: str
    value: Any


@dataclass(frozen=True)
class Bound:
    """One side of a numeric range as the contract states it: the keyword and its value."""

    keyword: str  # minimum, exclusiveMinimum, maximum, exclusiveMaximum
    value: float

    @property
    def inclusive(self) -> bool:
        return not self.keyword.startswith("exclusive")


def lower_bound(rule: FieldRule) -> Bound | None:
    """The tighter of `minimum` and `exclusiveMinimum`, or None when the field has neither."""
    pairs = (("minimum", rule.minimum), ("exclusiveMinimum", rule.exclusive_minimum))
    stated = [Bound(keyword, value) for keyword, value in pairs if value is not None]
    # At equal values the exclusive bound is the tighter one.
    return max(stated, key=lambda b: (b.value, not b.inclusive), default=None)


def upper_bound(rule: FieldRule) -> Bound | None:
    """The tighter of `maximum` and `exclusiveMaximum`, or None when the field has neither."""
    pairs = (("maximum", rule.maximum), ("exclusiveMaximum", rule.exclusive_maximum))
    stated = [Bound(keyword, value) for keyword, value in pairs if value is not None]
    return min(stated, key=lambda b: (b.value, b.inclusive), default=None)


def int_low(bound: Bound | None) -> int | None:
    if bound is None:
        return None
    return math.ceil(bound.value) if bound.inclusive else math.floor(bound.value) + 1


def int_high(bound: Bound | None) -> int | None:
    if bound is None:
        return None
    return math.floor(bound.value) if bound.inclusive else math.ceil(bound.value) - 1


def _float_low(bound: Bound | None) -> float | None:
    if bound is None:
        return None
    return float(bound.value) if bound.inclusive else math.nextafter(bound.value, math.inf)


def _float_high(bound: Bound | None) -> float | None:
    if bound is None:
        return None
    return float(bound.value) if bound.inclusive else math.nextafter(bound.value, -math.inf)


def integer_edges(low: int | None, high: int | None) -> tuple[Edge, ...]:
    named = []
    if low is not None:
        named += [Edge("min", low), Edge("min+1", low + 1)]
    if high is not None:
        named += [Edge("max", high), Edge("max-1", high - 1)]
    return _unique_within(named, low, high)


def number_values(rule: FieldRule) -> SearchStrategy[Any]:
    low, high = lower_bound(rule), upper_bound(rule)
    floats = st.floats(
        min_value=None if low is None else low.value,
        max_value=None if high is None else high.value,
        exclude_min=low is not None and not low.inclusive,
        exclude_max=high is not None and not high.inclusive,
        allow_nan=False,
        allow_infinity=False,
    )
    whole_low, whole_high = int_low(low), int_high(high)
    if whole_low is not None and whole_high is not None and whole_low > whole_high:
        return floats
    # JSON clients often send whole numbers without a decimal point; the contract accepts both.
    return st.one_of(floats, st.integers(whole_low, whole_high))


def number_edges(rule: FieldRule) -> tuple[Edge, ...]:
    low, high = lower_bound(rule), upper_bound(rule)
    smallest, largest = _float_low(low), _float_high(high)
    named = []
    if low is not None and smallest is not None:
        if low.inclusive:
            named += [Edge("min", smallest), Edge("next_up(min)", math.nextafter(smallest, math.inf))]
        else:
            named.append(Edge(f"next_up({low.keyword})", smallest))
    if high is not None and largest is not None:
        if high.inclusive:
            named += [Edge("max", largest), Edge("next_down(max)", math.nextafter(largest, -math.inf))]
        else:
            named.append(Edge(f"next_down({high.keyword})", largest))
    # min+1 and max-1 only when strictly inside: in (0, 1] "min+1" would be the maximum itself.
    inner = []
    if low is not None:
        inner.append(Edge("min+1", float(low.value) + 1))
    if high is not None:
        inner.append(Edge("max-1", float(high.value) - 1))
    named += [e for e in inner if (smallest is None or e.value > smallest) and (largest is None or e.value < largest)]
    return _unique_within(named, smallest, largest)


def _unique_within(named: list[Edge], low: float | None, high: float | None) -> tuple[Edge, ...]:
    seen: set[float] = set()
    edges = []
    for edge in named:
        inside = (low is None or edge.value >= low) and (high is None or edge.value <= high)
        if inside and edge.value not in seen:
            seen.add(edge.value)
            edges.append(edge)
    return tuple(edges)


def just_outside(rule: FieldRule) -> list[tuple[str, Any]]:
    """Values one step past each bound: by 1 for integers, by one ulp for numbers; the bound itself if exclusive."""
    low, high = lower_bound(rule), upper_bound(rule)
    if rule.type == "integer":
        smallest, largest = int_low(low), int_high(high)
        below = [] if low is None or smallest is None else [(low.keyword, smallest - 1)]
        above = [] if high is None or largest is None else [(high.keyword, largest + 1)]
        return below + above
    if rule.type != "number":
        return []
    found: list[tuple[str, Any]] = []
    for bound, outward in ((low, -math.inf), (high, math.inf)):
        if bound is None:
            continue
        if not bound.inclusive:
            found.append((bound.keyword, bound.value))
        found.append((bound.keyword, math.nextafter(bound.value, outward)))
    return found
