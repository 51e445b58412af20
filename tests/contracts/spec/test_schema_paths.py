"""The API's paths and prefix are spelled once, in the contract: the fake, the tools and the strategies read them."""

from __future__ import annotations

import ast
from pathlib import Path

import httpx
import pytest

from contracts import STATUS, SUBMIT
from contracts.spec.schema import base_path, operation_of, served_paths
from mockserver import Config, create_app
from mockserver.testing.handle import QolabaMock
from tests.conftest import TOKEN, valid_body

ROOT = Path(__file__).resolve().parents[3]


def _code_strings(source: Path) -> list[tuple[int, str]]:
    """String constants that are code, not prose: docstrings and anything with a space are left out."""
    tree = ast.parse(source.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        and " " not in node.value
    ]  # fmt: skip


def test_no_module_spells_an_api_path_the_contract_holds() -> None:
    spelled = [
        f"{source.relative_to(ROOT)}:{line}: {text!r}"
        for package in ("mockserver", "contracts", "strategies")
        for source in sorted((ROOT / package).rglob("*.py"))
        # The example client is written as a user writes theirs, with the paths the API documents.
        if "examples" not in source.relative_to(ROOT).parts
        for line, text in _code_strings(source)
        if "/getImage" in text or base_path() in text
    ]
    assert spelled == []


def test_every_spelling_the_contract_names_is_one_operation() -> None:
    assert served_paths(SUBMIT) == ("/getImagetoImage", "/getImageToImage")
    assert served_paths(STATUS) == ("/getImage",)
    assert [operation_of(prefix + "/getImageToImage") for prefix in ("", base_path())] == [SUBMIT, SUBMIT]
    assert operation_of(base_path() + "/getImage") == STATUS
    assert operation_of("/getImages") is None


@pytest.mark.parametrize("prefix", ["", base_path()])
@pytest.mark.parametrize("path", served_paths(SUBMIT))
def test_the_fake_serves_every_spelling_under_every_prefix(prefix: str, path: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Mock-Latency": "none"}
    app = create_app(Config(tokens=frozenset({TOKEN}), clock="virtual"))
    with QolabaMock(app) as mock, httpx.Client(transport=mock.transport(), base_url="http://testserver") as client:
        queued = client.post(prefix + path, json=valid_body(celery=True), headers=headers).json()
        mock.advance(600)
        polled = client.post(prefix + served_paths(STATUS)[0], json={"id": queued["task_id"]}, headers=headers)
    assert queued["status"] == "PENDING" and polled.json()["status"] == "SUCCESS"  # the task was found
