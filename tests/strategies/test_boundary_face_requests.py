from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from contracts import SUBMIT, field_rules
from strategies import boundary_face_requests

EDGE_FIELDS = [rule.name for rule in field_rules(SUBMIT) if rule.type in ("integer", "number", "boolean") or rule.enum]


def test_the_edge_table_names_every_documented_edge(edge_table: dict[str, set[tuple[type, Any]]]) -> None:
    # The table the coverage tests hold the strategy to, spelled out for the shipped contract.
    assert set(edge_table) == set(EDGE_FIELDS)
    assert {value for _, value in edge_table["strength"]} == {5e-324, 0.9999999999999999, 1.0}
    assert {value for _, value in edge_table["celery"]} == {False, True, "<absent>"}


def seen_edges(
    examples: int, random_seed: int | None, edge_table: dict[str, set[tuple[type, Any]]], edge_of: Any
) -> set[tuple[str, tuple[type, Any]]]:
    """Every (field, edge) in `examples` boundary bodies; derandomized (as under the `ci` profile) without a seed."""
    seen: set[tuple[str, tuple[type, Any]]] = set()
    bodies: list[dict[str, Any]] = []

    @settings(max_examples=examples, database=None, derandomize=random_seed is None)
    @given(boundary_face_requests())
    def record(body: dict[str, Any]) -> None:
        bodies.append(body)
        seen.update((name, edge_of(body, name)) for name in edge_table)

    (record if random_seed is None else seed(random_seed)(record))()
    assert len(bodies) == examples
    return seen


@pytest.mark.parametrize("random_seed", range(5))
def test_every_edge_of_every_field_appears_within_200_examples(
    random_seed: int, edge_table: dict[str, set[tuple[type, Any]]], edge_of: Any
) -> None:
    seen = seen_edges(200, random_seed, edge_table, edge_of)
    expected = {(name, edge) for name, edges in edge_table.items() for edge in edges}
    assert expected - seen == set()


def test_every_edge_of_every_field_appears_within_200_derandomized_examples(
    edge_table: dict[str, set[tuple[type, Any]]], edge_of: Any
) -> None:
    # What CI runs under Hypothesis's `ci` profile.
    seen = seen_edges(200, None, edge_table, edge_of)
    expected = {(name, edge) for name, edges in edge_table.items() for edge in edges}
    assert expected - seen == set()


@given(boundary_face_requests())
def test_every_boundary_body_is_valid_with_each_edge_field_on_an_edge(
    submit_errors: Any, edge_table: dict[str, set[tuple[type, Any]]], edge_of: Any, body: dict[str, Any]
) -> None:
    assert submit_errors(body) == []
    off_edge = {name: body.get(name) for name, edges in edge_table.items() if edge_of(body, name) not in edges}
    assert off_edge == {}


def test_five_examples_are_not_enough_so_the_coverage_check_can_fail(
    edge_table: dict[str, set[tuple[type, Any]]], edge_of: Any
) -> None:
    seen = seen_edges(5, 0, edge_table, edge_of)
    assert {(name, edge) for name, edges in edge_table.items() for edge in edges} - seen


@given(boundary_face_requests(batch=3, celery=st.just(True)))
def test_pinned_fields_stay_as_pinned(body: dict[str, Any]) -> None:
    assert body["batch"] == 3
    assert body.get("celery", True) is True


def test_pinning_every_field_that_has_an_edge_fails_early() -> None:
    pins = {name: st.nothing() for name in EDGE_FIELDS}
    with pytest.raises(InvalidArgument, match="pins every field that has an edge"):
        boundary_face_requests(**pins)


def test_pinning_an_edge_field_outside_the_contract_fails_naming_it() -> None:
    with pytest.raises(InvalidArgument, match=r"boundary_face_requests\(height=1537\)"):
        boundary_face_requests(height=1537)
