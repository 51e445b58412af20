"""Valid request bodies: anywhere in the contract, and on its documented edges."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from contracts.spec.schema import SUBMIT
from strategies._fields import FieldModel, models

# Marks the "absent" edge of an optional field.
_ABSENT = object()


@dataclass(frozen=True)
class Pin:
    """A field the caller fixed: by a plain value (always present) or by a strategy (optional stays optional)."""

    values: SearchStrategy[Any]
    always_present: bool


def pins_for(function: str, operation_id: str, fixed: Mapping[str, object]) -> dict[str, Pin]:
    """Check `fixed` against the contract before anything is built, naming the offending argument."""
    fields = models(operation_id)
    pins = {}
    for name, value in fixed.items():
        model = fields.get(name)
        if model is None:
            raise InvalidArgument(
                f"{function}({name}=...): {name!r} is not a field of the {operation_id} request body; "
                f"expected one of {', '.join(fields)}"
            )
        if isinstance(value, SearchStrategy):
            pins[name] = Pin(value.map(_checker(function, model)), always_present=False)
        elif model.accepts(value):
            pins[name] = Pin(st.just(value), always_present=True)
        else:
            raise InvalidArgument(
                f"{function}({name}={value!r}) must be valid for the contract: {model.complaint(value)}"
            )
    return pins


def _checker(function: str, model: FieldModel) -> Any:
    def check(value: Any) -> Any:
        if not model.accepts(value):
            refusal = model.complaint(value)
            raise InvalidArgument(f"{function}({model.name}=<strategy>) drew {value!r}: {refusal}")
        return value

    return check


def request_bodies(
    operation_id: str,
    pins: Mapping[str, Pin],
    defaults: Mapping[str, SearchStrategy[Any]] | None = None,
    skip: frozenset[str] = frozenset(),
) -> SearchStrategy[dict[str, Any]]:
    """Bodies with every required field and a random subset of the optional ones, except those in `skip`."""
    required: dict[str, SearchStrategy[Any]] = {}
    optional: dict[str, SearchStrategy[Any]] = {}
    for name, model in models(operation_id).items():
        if name in skip:
            continue
        pin = pins.get(name)
        values = pin.values if pin else (defaults or {}).get(name, model.values)
        if model.rule.required or (pin and pin.always_present):
            required[name] = values
        else:
            optional[name] = values
    return _bodies(tuple(required.items()), tuple(optional.items()))


@st.composite
def _bodies(
    draw: st.DrawFn,
    required: tuple[tuple[str, SearchStrategy[Any]], ...],
    optional: tuple[tuple[str, SearchStrategy[Any]], ...],
) -> dict[str, Any]:
    # Not st.fixed_dictionaries: it shuffles key order with one choice per key, and key order means
    # nothing in JSON. Hypothesis pays per choice, so which optional fields appear is one choice too.
    body = {name: draw(values) for name, values in required}
    present = draw(st.integers(0, (1 << len(optional)) - 1))
    for bit, (name, values) in enumerate(optional):
        if present >> bit & 1:
            body[name] = draw(values)
    return body


def face_requests(**fixed: object) -> SearchStrategy[dict[str, Any]]:
    """Valid `/getImagetoImage` bodies: every required field, each optional field present or absent.

    Each field is drawn from its contract range (integers, finite numbers, enums, `http(s)` image
    URLs that match the contract's pattern). Pin a field with a plain value, or pass your own
    strategy for it; either must stay inside the contract, or `InvalidArgument` names the field.
    No bound is guaranteed here (use `boundary_face_requests()` for that). Examples shrink
    towards the smallest body: required fields only, each at its minimum or first enum value.

    Example:
        @given(strategies.face_requests(celery=True, batch=st.integers(1, 2)))
        def test_queued(body): ...
    """
    return request_bodies(SUBMIT, pins_for("face_requests", SUBMIT, fixed))


def boundary_face_requests(**fixed: object) -> SearchStrategy[dict[str, Any]]:
    """Valid `/getImagetoImage` bodies with every field that has documented edges on one of them.

    Edges: `min`, `min+1`, `max-1`, `max` of integers; for numbers each inclusive bound, the next
    representable float inside each bound (`math.nextafter`, e.g. 5e-324 for `0 < strength`), and
    `min+1`/`max-1` when strictly inside; every enum member; both booleans; and absent, for an
    optional field. A shared index `k` puts each field on its edge `k mod n`, and about half the
    fields take another edge of their own, so a few distinct `k` (the least common multiple of the
    edge counts) reach every edge of every field: within 200 examples all of them appear, which
    tests/strategies checks. Fields without edges (prompt, image) vary as in `face_requests()`;
    fields you pin (by value or strategy) stay as you fixed them. Examples shrink towards every
    field on its first edge (minimum, `false`, first enum member), keeping the edges a failure needs.

    Example:
        @given(strategies.boundary_face_requests(celery=True))
        def test_client_accepts_every_edge(body): ...
    """
    pins = pins_for("boundary_face_requests", SUBMIT, fixed)
    movable = tuple(_edge_choices(model) for model in models(SUBMIT).values() if model.edges and model.name not in pins)
    if not movable:
        raise InvalidArgument(f"boundary_face_requests({', '.join(fixed)}=...) pins every field that has an edge")
    sweep = math.lcm(*(len(choices) for _, choices in movable))
    bodies = request_bodies(SUBMIT, pins, skip=frozenset(name for name, _ in movable))
    return _on_edges(bodies, movable, sweep)


def _edge_choices(model: FieldModel) -> tuple[str, tuple[Any, ...]]:
    values = tuple(edge.value for edge in model.edges)
    return model.name, values if model.rule.required else (*values, _ABSENT)


@st.composite
def _on_edges(
    draw: st.DrawFn,
    bodies: SearchStrategy[dict[str, Any]],
    movable: tuple[tuple[str, tuple[Any, ...]], ...],
    sweep: int,
) -> dict[str, Any]:
    # Independent picks per field clump under Hypothesis's mutations: with one `sampled_from` per
    # field, one seed in ten missed an edge within 200 examples. A shared index needs only `sweep`
    # distinct values to reach every edge; the per-field picks keep combinations varied.
    body = draw(bodies)
    own = draw(st.integers(0, (1 << len(movable)) - 1))
    k = draw(st.integers(0, sweep - 1))
    for bit, (name, choices) in enumerate(movable):
        index = k
        if own >> bit & 1 and len(choices) > 1:
            index += draw(st.integers(1, len(choices) - 1))
        value = choices[index % len(choices)]
        if value is not _ABSENT:
            body[name] = value
    return body
