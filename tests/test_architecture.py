"""The layout is the map: every folder is a layer that import-linter checks, no module imports itself through
others, and no folder grows past about twelve modules (docs/architecture.md)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mockserver", "contracts", "strategies")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
MAX_MODULES_PER_FOLDER = 12


def _layers() -> list[str]:
    importlinter = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    contract = next(c for c in importlinter["contracts"] if c["type"] == "layers")
    return [name.strip() for layer in contract["layers"] for name in layer.replace(":", "|").split("|")]


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_through_others_type_checking_imports_included() -> None:
    graph = grimp.build_graph(*PACKAGES)

    assert _cycles(graph) == []


def test_every_folder_and_top_module_of_the_fake_and_the_tools_is_a_layer() -> None:
    layers = set(_layers())
    expected = set()
    for package in ("mockserver", "contracts"):
        for child in sorted((ROOT / package).iterdir()):
            if child.name.startswith(("_", ".")) or child.name == "examples":
                continue
            if child.is_dir() and (child / "__init__.py").exists():
                expected.add(f"{package}.{child.name}")
            elif child.suffix == ".py":
                expected.add(f"{package}.{child.stem}")
    expected.add("strategies")

    assert expected - layers == set(), "name every folder in pyproject's layers contract (docs/architecture.md)"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_folder_holds_more_than_about_twelve_modules(package: str) -> None:
    crowded = {
        str(folder.relative_to(ROOT)): count
        for folder in [ROOT / package, *(ROOT / package).rglob("*/")]
        if folder.is_dir() and (folder / "__init__.py").exists()
        if (count := len([f for f in folder.glob("*.py") if f.name != "__init__.py"])) > MAX_MODULES_PER_FOLDER
    }

    assert crowded == {}


def _copy_of_the_packages(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_layers_hold_today() -> None:
    result = _lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr


def test_an_upward_import_breaks_the_layers_naming_it(tmp_path: Path) -> None:
    copy = _copy_of_the_packages(tmp_path)
    envelope = copy / "mockserver" / "wire" / "envelope.py"
    envelope.write_text(envelope.read_text() + "\nfrom mockserver.sim import backend  # noqa: E402\n")

    result = _lint_imports(copy)

    assert result.returncode == 1
    assert "mockserver.wire.envelope -> mockserver.sim.backend" in result.stdout


def test_an_import_between_independent_siblings_breaks_the_layers(tmp_path: Path) -> None:
    copy = _copy_of_the_packages(tmp_path)
    matrix = copy / "contracts" / "probe" / "matrix.py"
    matrix.write_text(matrix.read_text() + "\nfrom contracts.run import outcome  # noqa: E402\n")

    result = _lint_imports(copy)

    assert result.returncode == 1
    assert "contracts.probe.matrix -> contracts.run.outcome" in result.stdout


def _loaded_by_importing(module: str) -> set[str]:
    """The modules a fresh interpreter holds after `import module`."""
    script = f"import sys, {module}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return set(result.stdout.split())


def test_the_recording_proxy_loads_the_fakes_guards_and_body_reader_but_none_of_its_simulation() -> None:
    # The proxy shares the fake's guards and body reader (one implementation each); the body reader once
    # imported the journal recorder and with it the whole simulation, Pillow and pydantic (about 0.8 s).
    loaded = _loaded_by_importing("contracts.traffic.recording_proxy")

    assert {name for name in loaded if name.partition(".")[0] == "mockserver"} == {
        "mockserver",
        "mockserver.http",
        "mockserver.http.body_reader",
        "mockserver.http.guards",
        "mockserver.http.request_facts",
        "mockserver.http.shutdown",
        "mockserver.wire",
        "mockserver.wire.auth",
        "mockserver.wire.envelope",
    }
    # Of the contract tools, the model, the checks it runs on each answer and the traffic tools themselves.
    assert {name.split(".")[1] for name in loaded if name.startswith("contracts.")} == {
        "cassette",
        "checks",
        "client",
        "spec",
        "traffic",
    }
    assert not {"strategies", "PIL", "pydantic"} & loaded
