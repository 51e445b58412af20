"""Each documented bound is accepted and each neighbour just outside is rejected, naming the field.

The tables are read from the contract, so a bound changed in openapi.yaml is tested where it now lies.
"""

from __future__ import annotations

import math
from typing import Any

import httpx
import pytest

from contracts import SUBMIT, FieldRule, field_rules
from mockserver.wire import request_validation
from tests.conftest import valid_body

pytestmark = pytest.mark.anyio

RANGED = [rule for rule in field_rules(SUBMIT) if rule.type in ("integer", "number")]


def inside_edges(rule: FieldRule) -> list[float]:
    step = 1 if rule.type == "integer" else None
    edges: list[float] = []
    if rule.minimum is not None:
        edges += [rule.minimum, rule.minimum + step if step else math.nextafter(rule.minimum, math.inf)]
    if rule.exclusive_minimum is not None:
        edges += [math.nextafter(rule.exclusive_minimum, math.inf)]
    if rule.maximum is not None:
        edges += [rule.maximum, rule.maximum - step if step else math.nextafter(rule.maximum, -math.inf)]
    return edges


def outside_neighbours(rule: FieldRule) -> list[float]:
    step = 1 if rule.type == "integer" else None
    neighbours: list[float] = []
    if rule.minimum is not None:
        neighbours.append(rule.minimum - step if step else math.nextafter(rule.minimum, -math.inf))
    if rule.exclusive_minimum is not None:
        neighbours.append(rule.exclusive_minimum)
    if rule.maximum is not None:
        neighbours.append(rule.maximum + step if step else math.nextafter(rule.maximum, math.inf))
    return neighbours


def cases(edges: Any) -> list[Any]:
    return [pytest.param(rule.name, value, id=f"{rule.name}={value!r}") for rule in RANGED for value in edges(rule)]


def test_every_ranged_field_has_both_bounds() -> None:
    # Guards the tables below: a field without bounds would silently drop out of them.
    assert {rule.name for rule in RANGED} == {
        "batch",
        "height",
        "width",
        "num_inference_steps",
        "guidance_scale",
        "strength",
    }
    assert all(len(outside_neighbours(rule)) == 2 for rule in RANGED)


@pytest.mark.parametrize(("field", "value"), cases(inside_edges))
async def test_value_on_or_just_inside_a_bound_is_accepted(client: httpx.AsyncClient, field: str, value: float) -> None:
    response = await client.post("/getImagetoImage", json=valid_body(**{field: value}))
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize(("field", "value"), cases(outside_neighbours))
async def test_value_just_outside_a_bound_is_rejected_naming_the_field(
    client: httpx.AsyncClient, field: str, value: float
) -> None:
    response = await client.post("/getImagetoImage", json=valid_body(**{field: value}))

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["error_data"]] == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("batch", True),
        ("batch", "2"),
        ("batch", 2.5),
        ("height", [512]),
        ("guidance_scale", "7.5"),
        ("guidance_scale", False),
        ("strength", None),
        ("celery", 0),
        ("celery", "true"),
        ("prompt", 42),
        ("negative_prompt", None),
        ("inference_type", "A10G"),
        ("app_id", "ap-unknown"),
        ("image", "not a url"),
        ("image", "ftp://example.com/face.jpg"),
        ("image", "data:image/png;base64,AAAA"),
        ("image", "http://["),
        ("ref_id", 5),
    ],
)
async def test_types_and_enums_are_strict(client: httpx.AsyncClient, field: str, value: Any) -> None:
    response = await client.post("/getImagetoImage", json=valid_body(**{field: value}))

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["error_data"]] == [field]


@pytest.mark.parametrize("field", [rule.name for rule in field_rules(SUBMIT) if rule.required])
async def test_missing_required_field_is_rejected_naming_it(client: httpx.AsyncClient, field: str) -> None:
    request = valid_body()
    del request[field]

    response = await client.post("/getImagetoImage", json=request)

    assert response.status_code == 422
    assert response.json()["error_data"] == [{"field": field, "message": f"Field {field!r} is required."}]


async def test_integral_float_counts_as_an_integer_as_json_schema_says(client: httpx.AsyncClient) -> None:
    response = await client.post("/getImagetoImage", json=valid_body(batch=2.0, width=512.0))

    assert response.status_code == 200
    assert len(response.json()["output"]["result"]) == 2


def test_a_valid_body_is_settled_by_one_pass_of_the_whole_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    # Most bodies are valid; taking each apart field by field cost a validator run per field, per request.
    fields_checked: list[str] = []
    per_field = request_validation.field_validator

    def counting(operation_id: str, name: str) -> Any:
        fields_checked.append(name)
        return per_field(operation_id, name)

    monkeypatch.setattr(request_validation, "field_validator", counting)

    assert request_validation.validate(SUBMIT, valid_body()) == []
    assert fields_checked == []
    # A refused body is still taken apart, to name every broken rule.
    assert [error.field for error in request_validation.validate(SUBMIT, valid_body(batch=0, width=1))] == [
        "batch",
        "width",
    ]
