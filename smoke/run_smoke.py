"""`make smoke`: the package as a user gets it, proven on empty environments.

Builds the sdist and the wheel (the wheel from the sdist, in isolated build environments, as PyPI's installers
would), checks the wheel holds every file the code loads, then:

- venv "serve", the wheel and its runtime dependencies only: `qolaba-mock serve --port 0` answers the README's
  sync curl, a queued task is polled to SUCCESS, an output image is fetched, a contract tool names the extra
  it needs, and SIGTERM stops the server cleanly;
- venv "user", the wheel plus pytest only: smoke/userproject (a user's own package and tests) passes, using the
  fixtures, the marker, the strategies under `@given` and a replayed cassette.

Each step prints one line; the first failure prints one line naming the step and exits 1. The two venvs are
installed side by side (pip shares its download cache between them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mockserver", "contracts", "strategies")
# What the code loads at run time besides its modules; a wheel without one of these imports but fails.
RUNTIME_DATA = ("contracts/openapi.yaml", "mockserver/py.typed", "contracts/py.typed", "strategies/py.typed")
README_URL = "http://127.0.0.1:8000"
STEP_TIMEOUT = 300
# The README's full example: importable from the installed package, not only from a checkout.
EXAMPLE = "import mockserver.examples.face_client as m; print(m.FaceClient.__name__, 'from', m.__file__)"


class StepFailed(Exception):
    pass


_started = time.monotonic()


@contextmanager
def step(name: str) -> Iterator[list[str]]:
    """Run one step; append a detail to the yielded list to show it on the step's line."""
    began = time.monotonic()
    detail: list[str] = []
    try:
        yield detail
    except StepFailed as failure:
        print(f"smoke: FAILED at step '{name}': {failure}", flush=True)
        sys.exit(1)
    except Exception as failure:  # an answer of an unexpected shape, say: still one line naming the step
        print(f"smoke: FAILED at step '{name}': {type(failure).__name__}: {failure}", flush=True)
        sys.exit(1)
    said = f": {'; '.join(detail)}" if detail else ""
    print(f"smoke: ok   {name} ({time.monotonic() - began:.1f} s){said}", flush=True)


def run(command: list[str], *, cwd: Path = ROOT, env: dict[str, str] | None = None, what: str = "") -> str:
    """stdout of a command that must succeed; on failure, StepFailed with the end of its output."""
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise StepFailed(f"{what or command[0]} took over {STEP_TIMEOUT} s") from None
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise StepFailed(f"{what or ' '.join(command)} exited {done.returncode}:\n" + "\n".join(tail))
    return done.stdout


def user_env() -> dict[str, str]:
    """The environment of a user's shell: nothing of this checkout's venv, bytecode written as usual."""
    env = {key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def empty_venv(path: Path) -> Path:
    """A venv with nothing in it, not even pip: what it holds is exactly what the wheel brings."""
    run([sys.executable, "-m", "venv", "--without-pip", str(path)], what="python -m venv")
    return path / "bin" / "python"


def pip_install(python: Path, *requirements: str) -> subprocess.Popen[str]:
    """pip from this checkout's venv installing into `python`'s environment, from the package index."""
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-compile"]
    return subprocess.Popen(
        [*command, *requirements], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=user_env()
    )


def finish(install: subprocess.Popen[str], what: str) -> None:
    try:
        output, _ = install.communicate(timeout=STEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        install.kill()
        raise StepFailed(f"{what} took over {STEP_TIMEOUT} s") from None
    if install.returncode != 0:
        lines = [line for line in output.splitlines() if "is ignored" not in line]
        raise StepFailed(f"{what} exited {install.returncode}:\n" + "\n".join(lines[-15:]))


def distributions(python: Path) -> set[str]:
    names = run([str(python), "-c", "import importlib.metadata as m; print(*{d.name for d in m.distributions()})"])
    return {name.lower().replace("_", "-") for name in names.split()}


def built(dist: Path) -> tuple[Path, Path]:
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        raise StepFailed(f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
    return wheels[0], sdists[0]


def package_files() -> set[str]:
    """Every file of the three packages in this checkout (modules and data), as paths inside a wheel."""
    return {
        path.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def check_wheel(wheel: Path, detail: list[str]) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = next(name.split("/")[0] for name in names if name.endswith(".dist-info/METADATA"))
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
        metadata = archive.read(f"{info}/METADATA").decode()
    missing = sorted(package_files() - names)
    if missing:
        raise StepFailed(f"the wheel lacks {len(missing)} file(s) of the packages: {', '.join(missing[:8])}")
    stray = sorted(name for name in names - package_files() if not name.startswith(f"{info}/"))
    if stray:
        raise StepFailed(f"the wheel holds files outside the packages: {', '.join(stray[:8])}")
    absent = [name for name in RUNTIME_DATA if name not in names]
    if absent:
        raise StepFailed(f"the wheel lacks data the code loads: {', '.join(absent)}")
    for needed in ("qolaba-mock = mockserver.cli:main", "[pytest11]", "qolaba_mock = mockserver.pytest_plugin"):
        if needed not in entry_points:
            raise StepFailed(f"the wheel's entry points lack {needed!r}")
    schemathesis = [line for line in metadata.splitlines() if line.startswith("Requires-Dist: schemathesis")]
    if not schemathesis or any("extra == 'contract'" not in line.replace('"', "'") for line in schemathesis):
        raise StepFailed(f"schemathesis must be required by the contract extra only: {schemathesis}")
    detail.append(f"{len(names)} files: every module, {', '.join(RUNTIME_DATA)}, both entry points")


def check_sdist(sdist: Path, detail: list[str]) -> None:
    with tarfile.open(sdist) as archive:
        top = sdist.name.removesuffix(".tar.gz")
        names = {name.removeprefix(f"{top}/") for name in archive.getnames()}
    missing = sorted((package_files() | {"pyproject.toml", "README.md"}) - names)
    if missing:
        raise StepFailed(f"the sdist lacks {', '.join(missing[:8])}")
    detail.append(f"{len(names)} entries, the packages, pyproject.toml and README.md")


def readme_block(containing: str) -> str:
    """The README's first shell block holding `containing`, as written."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL):
        if containing in block:
            return str(block)
    raise StepFailed(f"README.md has no sh block with {containing!r}")


def curl(block: str, url: str, replacements: dict[str, str] | None = None) -> dict[str, Any]:
    script = block.replace(README_URL, url)
    for old, new in (replacements or {}).items():
        script = script.replace(old, new)
    out = run(["bash", "-euo", "pipefail", "-c", script], env=user_env(), what="the README's curl")
    try:
        answer: dict[str, Any] = json.loads(out)
    except ValueError:
        raise StepFailed(f"not JSON: {out[:200]!r}") from None
    return answer


def until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise StepFailed(f"{what} not within {seconds} s")
        time.sleep(0.05)


def serve_steps(python: Path, work: Path) -> None:
    qolaba_mock = python.parent / "qolaba-mock"
    with step("qolaba-mock serve --port 0 --time-scale 0.01 prints its URL") as detail:
        server = subprocess.Popen(
            [str(qolaba_mock), "serve", "--port", "0", "--time-scale", "0.01"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=user_env(),
            cwd=work,
        )
        assert server.stdout is not None and server.stderr is not None
        line = server.stdout.readline()
        if not line.startswith("qolaba-mock serving on http://127.0.0.1:"):
            server.kill()
            raise StepFailed(f"first line {line!r}; stderr: {server.stderr.read()[-2000:]}")
        url = line.rsplit(" ", 1)[1].strip()
        detail.append(url)
    try:
        with step("the README's sync curl answers SUCCESS") as detail:
            answer = curl(readme_block("X-Mock-Latency: none"), url)
            images = answer.get("output", {}).get("result", [])
            if answer.get("status") != "SUCCESS" or len(images) != 2:
                raise StepFailed(f"answer {json.dumps(answer)[:300]}")
            detail.append(f"{len(images)} images")
        with step("the README's queued curl, polled with its poll curl, reaches SUCCESS") as detail:
            queued = curl(readme_block('"celery": true'), url)
            task_id = queued.get("task_id")
            if queued.get("status") != "PENDING" or not task_id:
                raise StepFailed(f"answer {json.dumps(queued)[:300]}")
            poll = readme_block('"id": "8c3e…"')
            polls: list[dict[str, Any]] = []

            def finished() -> bool:
                polls.append(curl(poll, url, {"8c3e…": str(task_id)}))
                return polls[-1].get("status") != "PENDING"

            until(finished, 30, "the queued task's SUCCESS")
            if polls[-1].get("status") != "SUCCESS":
                raise StepFailed(f"the task ended {json.dumps(polls[-1])[:300]}")
            image_url = polls[-1]["output"]["result"][0]
            detail.append(f"task {task_id} after {len(polls)} polls")
        with step("an output image is served") as detail:
            image = work / "output.jpg"
            kind = run(
                ["curl", "-sS", "--fail", "-o", str(image), "-w", "%{content_type}", image_url], what="curl the image"
            )
            if kind != "image/jpeg" or image.read_bytes()[:3] != b"\xff\xd8\xff":
                raise StepFailed(f"{image_url}: {kind}, starts {image.read_bytes()[:8]!r}")
            detail.append(f"{image_url.rsplit('/', 1)[1]}: {kind}, {image.stat().st_size} bytes")
        with step("the dashboard is served from the wheel's own templates and script") as detail:
            page = run(["curl", "-sS", "--fail", f"{url}/__admin/ui/"], what="curl the dashboard")
            script = run(["curl", "-sS", "--fail", f"{url}/__admin/ui/static/dashboard.js"], what="curl its script")
            if 'id="journal"' not in page or "EventSource" not in script:
                raise StepFailed(f"the dashboard page or its script is not what the package ships: {page[:300]!r}")
            detail.append(f"journal page {len(page)} bytes, dashboard.js {len(script)} bytes")
        with step("a contract tool without the extra says how to get it") as detail:
            probe = subprocess.run(
                [str(qolaba_mock), "probe", "--base-url", url], capture_output=True, text=True, env=user_env()
            )
            lines = probe.stderr.splitlines()
            if probe.returncode != 2 or len(lines) != 1 or 'pip install "qolaba-mock[contract]"' not in lines[0]:
                raise StepFailed(f"exit {probe.returncode}, stderr {probe.stderr[-500:]!r}")
            detail.append(lines[0])
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
    with step("SIGTERM stops the server cleanly") as detail:
        began = time.monotonic()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            raise StepFailed("still running 10 s after SIGTERM") from None
        stderr = server.stderr.read()
        # uvicorn shuts down gracefully, then ends by the signal it was sent (exit -15), as a Unix process should.
        if server.returncode not in (0, -signal.SIGTERM) or stderr:
            raise StepFailed(f"exit {server.returncode}, stderr {stderr[-1000:]!r}")
        detail.append(f"exit {server.returncode} after {time.monotonic() - began:.2f} s, nothing on stderr")


def main() -> int:
    print(f"smoke: {sys.executable} -m build, then empty venvs from the package index", flush=True)
    with tempfile.TemporaryDirectory(prefix="qolaba-smoke-") as scratch:
        work = Path(scratch)
        with step("build the sdist, and the wheel from it") as detail:
            run([sys.executable, "-m", "build", "--outdir", str(work / "dist"), str(ROOT)], what="python -m build")
            wheel, sdist = built(work / "dist")
            detail.append(f"{wheel.name}, {sdist.name}")
        with step("the wheel holds what the code loads") as detail:
            check_wheel(wheel, detail)
        with step("the sdist holds the sources") as detail:
            check_sdist(sdist, detail)

        serve_python, user_python = empty_venv(work / "serve"), empty_venv(work / "user")
        user_install = pip_install(user_python, str(wheel), "pytest")
        with step("venv 'serve': the wheel and its runtime dependencies") as detail:
            finish(pip_install(serve_python, str(wheel)), "pip install the wheel")
            installed = distributions(serve_python)
            extra = sorted(installed & {"schemathesis", "requests", "pip", "setuptools"})
            if "qolaba-mock" not in installed or extra:
                raise StepFailed(f"installed {sorted(installed)}")
            detail.append(f"{len(installed)} distributions, no schemathesis, requests or pip")
        with step("the example client imports from the installed package") as detail:
            where = run([str(serve_python), "-c", EXAMPLE], cwd=work, env=user_env(), what="import the example")
            detail.append(where.strip())
        serve_steps(serve_python, work)

        with step("venv 'user': the wheel plus pytest") as detail:
            finish(user_install, "pip install the wheel and pytest")
            installed = distributions(user_python)
            if "schemathesis" in installed or "pytest" not in installed:
                raise StepFailed(f"installed {sorted(installed)}")
            detail.append(f"{len(installed)} distributions, no schemathesis")
        with step("a user's project passes: fixtures, marker, strategies under @given, cassette=") as detail:
            project = work / "userproject"
            shutil.copytree(ROOT / "smoke" / "userproject", project)
            out = run([str(user_python), "-m", "pytest", "-q"], cwd=project, env=user_env(), what="pytest")
            detail.append(out.strip().splitlines()[-1])
    print(f"smoke: all steps passed in {time.monotonic() - _started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
