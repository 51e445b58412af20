"""Every range the strategies use comes from contracts/openapi.yaml, at import time."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import tokenize
from pathlib import Path
from typing import Any

import yaml

import contracts
import strategies
from contracts import STATUS, SUBMIT, field_rules, request_schema

STRATEGIES_DIR = Path(strategies.__file__).parent
CONTRACTS_DIR = Path(contracts.__file__).parent

# Keywords the strategies generate from; the rest of a property is annotation.
UNDERSTOOD = {"type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "enum", "pattern"}
ANNOTATIONS = {"description", "default", "example", "examples", "title"}


def contract_numbers() -> set[float]:
    numbers: set[float] = set()
    for operation_id in (SUBMIT, STATUS):
        for rule in field_rules(operation_id):
            bounds = (rule.minimum, rule.maximum, rule.exclusive_minimum, rule.exclusive_maximum)
            numbers.update(value for value in bounds if value is not None)
    return numbers


def test_no_bound_of_the_contract_is_written_in_the_strategies() -> None:
    # 0 and 1 are also plain arithmetic (`high - 1`, a bit mask); every other bound must be read.
    forbidden = contract_numbers() - {0, 1}
    assert forbidden, "the contract states bounds other than 0 and 1"
    found = []
    for path in sorted(STRATEGIES_DIR.glob("*.py")):
        with path.open("rb") as source:
            for token in tokenize.tokenize(source.readline):
                if token.type == tokenize.NUMBER and float(token.string.replace("_", "")) in forbidden:
                    found.append(f"{path.name}:{token.start[0]}: {token.string}")
    assert found == []


def test_every_validation_keyword_of_the_request_bodies_is_one_the_strategies_understand() -> None:
    for operation_id in (SUBMIT, STATUS):
        for name, spec in request_schema(operation_id)["properties"].items():
            keywords = {key for key in spec if not key.startswith("x-")} - ANNOTATIONS
            assert keywords <= UNDERSTOOD, (operation_id, name, keywords - UNDERSTOOD)


PROBE = textwrap.dedent(
    """
    import json
    from hypothesis import given, settings
    import strategies

    seen = {"batch": set(), "strength": set(), "inference_type": set(), "outside": set()}

    @settings(max_examples=200, database=None, derandomize=True)
    @given(strategies.boundary_face_requests())
    def edges(body):
        for name in ("batch", "strength", "inference_type"):
            if name in body:
                seen[name].add(body[name])

    @settings(max_examples=30, database=None, derandomize=True)
    @given(strategies.invalid_face_requests(fields=["batch", "strength"], rules=["maximum"]))
    def outside(invalid):
        seen["outside"].add((invalid.field, invalid.body[invalid.field]))

    edges()
    outside()
    print(json.dumps({key: sorted(map(repr, values)) for key, values in seen.items()}))
    """
)


def test_changing_the_contract_moves_the_strategies(tmp_path: Path) -> None:
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    document: dict[str, Any] = yaml.safe_load((copy / "openapi.yaml").read_text(encoding="utf-8"))
    properties = document["components"]["schemas"]["FaceConsistencyRequest"]["properties"]
    properties["batch"]["maximum"] = 4
    properties["strength"]["maximum"] = 0.5
    properties["inference_type"]["enum"] = ["a10g", "l4"]
    (copy / "openapi.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    (tmp_path / "probe.py").write_text(PROBE, encoding="utf-8")

    # Run from tmp_path so its `contracts` shadows the project's; `strategies` still comes from the project.
    result = subprocess.run(
        [sys.executable, "probe.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)

    assert seen["batch"] == ["1", "2", "3", "4"]
    assert {"0.5", "0.49999999999999994"} <= set(seen["strength"])
    assert max(map(float, seen["strength"])) == 0.5
    assert set(seen["inference_type"]) == {"'a10g'", "'l4'"}
    assert seen["outside"] == ["('batch', 5)", "('strength', 0.5000000000000001)"]
