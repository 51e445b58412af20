"""The contract itself: valid OpenAPI, complete status codes, sources named, and one place for every range."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from contracts import STATUS, SUBMIT, field_rules, load_schema

ROOT = Path(__file__).resolve().parents[3]
OPERATIONS = [("/getImagetoImage", SUBMIT), ("/getImage", STATUS)]


def test_contract_validates_as_openapi() -> None:
    validate(load_schema())


@pytest.mark.parametrize(("path", "operation_id"), OPERATIONS)
def test_every_status_code_the_fake_returns_is_declared(path: str, operation_id: str) -> None:
    operation = load_schema()["paths"][path]["post"]
    assert operation["operationId"] == operation_id
    assert set(operation["responses"]) == {"200", "400", "401", "413", "422", "500"}


def test_submit_links_its_task_id_to_the_status_operation() -> None:
    link = load_schema()["paths"]["/getImagetoImage"]["post"]["responses"]["200"]["links"]["GetTaskStatus"]
    assert link["operationId"] == STATUS
    assert link["requestBody"] == {"id": "$response.body#/task_id"}


def test_every_undocumented_rule_names_its_source() -> None:
    documented_by_docs = {"prompt", "batch", "height", "width", "num_inference_steps", "guidance_scale"}
    for rule in field_rules(SUBMIT):
        if rule.name not in documented_by_docs:
            assert rule.source in {"backend-source", "inferred"}, rule.name
    components: dict[str, Any] = load_schema()["components"]
    for name, response in components["responses"].items():
        assert response.get("x-source") in {"docs", "backend-source", "inferred"}, name


def test_the_request_ranges_are_written_nowhere_but_the_contract() -> None:
    # The code must read bounds from contracts/openapi.yaml; a literal bound in code is a second source of truth.
    # A number that merely equals a bound is marked on its line with the comment `not a contract bound`.
    bounds = {str(int(v)) for r in field_rules(SUBMIT) for v in (r.minimum, r.maximum) if v is not None and v > 1}
    pattern = re.compile(r"(?<![\w.-])(" + "|".join(sorted(bounds)) + r")(?![\w.])")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("mockserver", "strategies")
        for path in (ROOT / package).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line.split("#")[0]) and "not a contract bound" not in line
    ]
    assert offenders == []
