"""What installing qolaba-mock costs a pytest session that never uses it.

Three empty venvs with the same pytest: `bare` (pytest only), `fake` (pytest and the wheel: what
`pip install qolaba-mock` brings) and `contract` (pytest and `qolaba-mock[contract]`, schemathesis included:
what every user paid before the contract tools became an extra). In a temporary project with one trivial
test, `python -m pytest -q` runs in each, the venvs taking turns, after two warm-up runs each; medians of
wall-clock and CPU seconds. Then `fake` again with each third-party plugin it brings switched off
(`-p no:NAME`), to show where the time goes.

Run as a user runs it, bytecode caches written (pytest rewrites the asserts of every plugin's package and
caches the result beside the bytecode), then again with PYTHONDONTWRITEBYTECODE=1, which makes pytest redo
that rewriting in every session.

Bounded: about 100 pytest sessions of one test each, and three venv installs; 2 to 4 minutes in all.

    .venv/bin/python bench/bench_plugin_overhead.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.5
# The pytest plugins the wheel's runtime dependencies register, besides qolaba-mock's own.
BROUGHT_PLUGINS = ("hypothesispytest", "respx", "anyio", "qolaba_mock")


def _user_env(*, write_bytecode: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTEST_ADDOPTS", None)
    env.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(command: list[str], **kwargs: object) -> None:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _venvs(work: Path) -> dict[str, Path]:
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(ROOT)])
    wheel = next((work / "dist").glob("*.whl"))
    wants = {"bare": [], "fake": [str(wheel)], "contract": [f"{wheel}[contract]"]}
    pythons: dict[str, Path] = {}
    installs: list[subprocess.Popen[str]] = []
    for name, extra in wants.items():
        _run([sys.executable, "-m", "venv", "--without-pip", str(work / name)])
        pythons[name] = work / name / "bin" / "python"
        command = [sys.executable, "-m", "pip", "--python", str(pythons[name]), "install", "--quiet"]
        requirements = [f"pytest=={pytest.__version__}", *extra]
        installs.append(
            subprocess.Popen([*command, *requirements], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        )
    for install in installs:  # side by side; pip shares its download cache
        output, _ = install.communicate()
        if install.returncode != 0:
            sys.exit(f"a venv install failed:\n{output}")
    return pythons


def _session(python: Path, options: list[str], project: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one pytest session running the one trivial test."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(
        [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *options],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0 or "1 passed" not in done.stdout:
        sys.exit(f"pytest in {python} {options} failed:\n{done.stdout}{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _measure(
    variants: dict[str, tuple[Path, list[str]]], project: Path, env: dict[str, str], rounds: int
) -> dict[str, tuple[float, float]]:
    for python, options in variants.values():
        for _ in range(2):  # warm-up: bytecode and rewritten asserts cached, files in the page cache
            _session(python, options, project, env)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    names = list(variants)
    for round_ in range(rounds):
        # Each round in another order, so a busy moment of the machine does not fall on one variant.
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            samples[name].append(_session(*variants[name], project, env))
    return {
        name: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for name, runs in samples.items()
    }


def _table(title: str, medians: dict[str, tuple[float, float]], base: str) -> None:
    print(f"\n{title}")
    print(f"{'':40} {'wall s':>8} {'CPU s':>8} {'vs ' + base:>12}")
    for name, (wall, cpu) in medians.items():
        extra = "" if name == base else f"{wall - medians[base][0]:+8.2f} s"
        print(f"{name:40} {wall:8.3f} {cpu:8.3f} {extra:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=9)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="qolaba-overhead-") as scratch:
        work = Path(scratch)
        print("building the wheel and three venvs (bare, fake, contract) ...", flush=True)
        py = _venvs(work)
        project = work / "project"
        project.mkdir()
        (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (project / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n", encoding="utf-8")
        print(f"pytest {pytest.__version__}, {rounds} rounds, one trivial test per session")

        installs: dict[str, tuple[Path, list[str]]] = {
            "pytest only": (py["bare"], []),
            "pip install qolaba-mock": (py["fake"], []),
            'pip install "qolaba-mock[contract]"': (py["contract"], []),
        }
        blame = {f"qolaba-mock, -p no:{plugin}": (py["fake"], ["-p", f"no:{plugin}"]) for plugin in BROUGHT_PLUGINS}
        cached = _measure({**installs, **blame}, project, _user_env(write_bytecode=True), rounds)
        _table("bytecode cached, as a user runs pytest:", cached, "pytest only")
        uncached = _measure(installs, project, _user_env(write_bytecode=False), rounds)
        _table(
            "PYTHONDONTWRITEBYTECODE=1 (pytest rewrites every plugin package's asserts each session):",
            uncached,
            "pytest only",
        )

        overhead = cached["pip install qolaba-mock"][0] - cached["pytest only"][0]
        verdict = "within" if overhead <= TARGET_SECONDS else "OVER"
        print(
            f"\nqolaba-mock installed, not used: {overhead:+.2f} s a session ({verdict} the {TARGET_SECONDS} s target)"
        )
        # Not a breakdown: qolaba_mock's plugin keeps Hypothesis's from importing Hypothesis, so switching it
        # off costs time rather than saving it.
        for plugin in BROUGHT_PLUGINS:
            changed = cached[f"qolaba-mock, -p no:{plugin}"][0] - cached["pip install qolaba-mock"][0]
            print(f"  with {plugin}'s pytest plugin off: {changed:+.2f} s")


if __name__ == "__main__":
    main()
