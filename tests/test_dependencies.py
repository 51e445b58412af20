"""What the package declares: every import it makes, and what works without the `contract` extra.

`make lint` runs deptry on the real pyproject.toml; these tests prove that check can fail, and check the one
thing deptry cannot see: that nothing outside the contract tools reaches schemathesis, even through our own
modules.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from contracts.client.extra import CONTRACT_PACKAGES

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SHIPPED_PACKAGES = ("mockserver", "contracts", "strategies")
DEPTRY = Path(sys.executable).parent / "deptry"

# The modules that need the `contract` extra: the contract tools built on schemathesis. Every other module of
# ours must import without it (the fake, the fixtures, the strategies, the cassette, the CLI's parser).
# `contracts.checks` registers its checks with schemathesis when imported, so each module in it needs the extra.
CHECKS = {
    "contracts.checks",
    *(f"contracts.checks.{path.stem}" for path in (ROOT / "contracts" / "checks").glob("[!_]*.py")),
}
NEEDS_THE_CONTRACT_EXTRA = CHECKS | {
    "contracts.run.engine",
    "contracts.run.failures",
    "contracts.run.queued_tasks",
    # The api target of the pytest plugin judges each answer with the contract's checks.
    "contracts.real_api.api_run",
    "contracts.real_api.summary",
    "contracts.traffic.proxy_recorder",
    "contracts.traffic.recording_proxy",
}
# Run in a fresh interpreter where schemathesis cannot be imported, as in an install without the extra.
WITHOUT_SCHEMATHESIS = "import sys; sys.modules['schemathesis'] = None\n"


def _requirement_name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match is not None, requirement
    return match.group(0)


def _declared() -> list[tuple[str, str]]:
    """(where, distribution name) for each runtime dependency and each of the contract extra."""
    project = PYPROJECT["project"]
    found = [("dependencies", _requirement_name(req)) for req in project["dependencies"]]
    found += [("contract", _requirement_name(req)) for req in project["optional-dependencies"]["contract"]]
    return found


def _imported_names(distribution: str) -> list[str]:
    canonical = distribution.lower().replace("_", "-")
    return sorted(
        module
        for module, owners in packages_distributions().items()
        if canonical in {owner.lower().replace("_", "-") for owner in owners}
        and not module.startswith("_")
        and module.isidentifier()
    )


# deptry cannot see these used: uvicorn picks them by name when installed (pyproject's per_rule_ignores).
LOADED_BY_NAME = set(PYPROJECT["tool"]["deptry"]["per_rule_ignores"]["DEP002"])


@pytest.mark.parametrize(
    ("where", "distribution"),
    [pytest.param(where, dist, id=dist) for where, dist in _declared() if dist not in LOADED_BY_NAME],
)
def test_removing_a_declared_dependency_makes_deptry_fail_naming_its_import(
    tmp_path: Path, where: str, distribution: str
) -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not re.match(rf'\s*"{re.escape(distribution)}[^A-Za-z0-9_-]', line)]
    assert len(kept) == len(text.splitlines()) - 1, f"{distribution} is not declared on one line of {where}"
    config = tmp_path / "pyproject.toml"
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")

    result = subprocess.run(
        [str(DEPTRY), ".", "--no-ansi", "--config", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 1, result.stdout + result.stderr
    report = result.stdout + result.stderr
    named = [module for module in _imported_names(distribution) if f"'{module}' imported" in report]
    assert named, f"deptry did not name an import of {distribution} ({_imported_names(distribution)}):\n{report}"


def test_deptry_passes_on_the_pyproject_as_it_is() -> None:
    """The control for the test above: the same run, nothing removed, finds nothing."""
    result = subprocess.run([str(DEPTRY), ".", "--no-ansi"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_contract_tools_need_the_contract_extra() -> None:
    walk = """
import importlib, pathlib
failed = []
for package in ("mockserver", "contracts", "strategies"):
    for path in sorted(pathlib.Path(package).rglob("*.py")):
        name = ".".join(path.with_suffix("").parts).removesuffix(".__init__")
        try:
            importlib.import_module(name)
        except ImportError:
            failed.append(name)
print("\\n".join(sorted(failed)))
"""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SCHEMATHESIS + walk], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == NEEDS_THE_CONTRACT_EXTRA


def test_the_fake_and_the_strategies_work_without_the_contract_extra() -> None:
    use = """
import httpx
from hypothesis import given, settings
import strategies
from mockserver import Config, VirtualClock, create_app
from mockserver.testing.handle import QolabaMock

with QolabaMock(create_app(Config(), clock=VirtualClock())) as mock:
    client = httpx.Client(transport=mock.transport(), base_url="http://fake", headers={"Authorization": "Bearer t"})

    @settings(max_examples=5, database=None)
    @given(strategies.face_requests(celery=True))
    def submit(body):
        assert client.post("/getImagetoImage", json=body).json()["status"] == "PENDING"

    submit()
    mock.assert_called("/getImagetoImage", times=5)
print("schemathesis" in sys.modules and sys.modules["schemathesis"] is not None)
"""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SCHEMATHESIS + use], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "argv",
    [
        ["contract", "--base-url", "http://127.0.0.1:9"],
        ["probe", "--base-url", "http://127.0.0.1:9"],
        ["diff", "--cassette", "prod.jsonl"],
        ["record", "--upstream", "http://127.0.0.1:9", "--out", "prod.jsonl"],
    ],
    ids=lambda argv: argv[0],
)
def test_a_contract_tool_without_the_extra_says_in_one_line_how_to_install_it(argv: list[str]) -> None:
    run = f"from mockserver.cli import main\nsys.exit(main({argv!r}))\n"
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SCHEMATHESIS + run], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"qolaba-mock: error: {argv[0]} needs the contract tools, which are not installed (schemathesis is missing): "
        'pip install "qolaba-mock[contract]"'
    ]


def test_the_contracts_facade_names_the_extra_when_a_tool_needs_it() -> None:
    use = "import contracts\ntry:\n    contracts.run_contract\nexcept ModuleNotFoundError as e:\n    print(e)\n"
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SCHEMATHESIS + use], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == (
        "contracts.run_contract needs the contract tools, which are not installed (schemathesis is missing): "
        'pip install "qolaba-mock[contract]"'
    )


def _imports_of_the_extra(tree: ast.Module) -> list[tuple[ast.stmt, bool]]:
    """Each module-level import of a package of the contract extra, and whether it sits in the guard that turns
    its absence into one line (`except ModuleNotFoundError: raise contract_extra_missing(...)`)."""
    found: list[tuple[ast.stmt, bool]] = []
    for statement in tree.body:
        if isinstance(statement, ast.Try):
            guarded = any("contract_extra_missing" in ast.unparse(handler) for handler in statement.handlers)
            found += [(inner, guarded) for inner in statement.body if _names_the_extra(inner)]
        elif _names_the_extra(statement):
            found.append((statement, False))
    return found


def _names_the_extra(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Import):
        names = [alias.name for alias in statement.names]
    elif isinstance(statement, ast.ImportFrom):
        names = [statement.module or ""]
    else:
        return False
    return any(name.partition(".")[0] in CONTRACT_PACKAGES for name in names)


def test_every_import_of_the_contract_extra_is_guarded_by_the_install_line() -> None:
    unguarded = []
    for package in SHIPPED_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            unguarded += [
                f"{path.relative_to(ROOT)}:{node.lineno}" for node, ok in _imports_of_the_extra(tree) if not ok
            ]
    assert unguarded == []


GUARDED_MODULES = sorted(
    ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for package in SHIPPED_PACKAGES
    for path in (ROOT / package).rglob("*.py")
    if "\n    raise contract_extra_missing(missing, __name__)" in path.read_text(encoding="utf-8")
)


@pytest.mark.parametrize("missing", CONTRACT_PACKAGES)
def test_each_module_needing_the_extra_says_in_one_line_how_to_install_it(missing: str) -> None:
    assert len(GUARDED_MODULES) >= 7, GUARDED_MODULES
    use = f"""import importlib, sys
sys.modules[{missing!r}] = None
for name in {GUARDED_MODULES!r}:
    for loaded in [m for m in sys.modules if m.startswith("contracts.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        print(name, "|", error)
    else:
        print(name, "| imported")
"""
    result = subprocess.run([sys.executable, "-c", use], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    said = dict(line.split(" | ", 1) for line in result.stdout.splitlines())
    refused = {name for name, answer in said.items() if answer != "imported"}
    # Whichever guarded module the import reaches first speaks; every refusal names the package and the install.
    line = f'not installed ({missing} is missing): pip install "qolaba-mock[contract]"'
    assert all(said[name].endswith(line) for name in refused), said
    # Without schemathesis none of them loads; without requests, at least the one that reads its responses.
    assert refused == set(GUARDED_MODULES) if missing == "schemathesis" else "contracts.checks.single_answer" in refused
