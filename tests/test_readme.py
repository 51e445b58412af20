"""Every code block in README.md runs as written, or says in a comment before its fence why it is not run.

Python blocks with tests run as a user's test file, under pytest with the plugin and nothing of this
repository's conftest; other Python blocks run as a script. Shell blocks run in bash against
`qolaba-mock serve` (its port in place of the README's 8000); a block of `qolaba-mock serve` lines starts each
server, as written, on a free port (QOLABA_MOCK_PORT=0), and stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.readme_blocks import RUN_LANGUAGES, SHOWN_LANGUAGES, Block, code_blocks

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BLOCKS = code_blocks(README.read_text(encoding="utf-8"))
README_URL = "http://127.0.0.1:8000"
BIN = Path(sys.executable).parent
# The user's environment: the installed `qolaba-mock` on PATH, bytecode as usual.
SHELL_ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def _blocks(language: str) -> list[pytest.ParameterSet]:
    return [
        pytest.param(block, id=f"README.md:{block.line}")
        for block in BLOCKS
        if block.runs and block.language == language
    ]


def run_python_block(block: Block, pytester: pytest.Pytester) -> str | None:
    """None if the block ran and every test in it passed; else what went wrong."""
    if block.is_pytest_module:
        # The project's own settings, as a user's project would keep them: fewer schemathesis examples than its
        # default 100 per operation keep this run short; the code runs as written.
        (pytester.path / "schemathesis.toml").write_text("generation.max-examples = 10\n", encoding="utf-8")
        pytester.makepyfile(**{f"test_readme_{block.line}": block.code})
        result = pytester.runpytest("-p", "no:cacheprovider")
        outcomes = result.parseoutcomes()
        if result.ret != 0 or outcomes.get("passed", 0) == 0:
            return "\n".join(result.outlines[-40:])
        return None
    script = pytester.path / f"readme_{block.line}.py"
    script.write_text(block.code, encoding="utf-8")
    ran = subprocess.run([sys.executable, str(script)], cwd=pytester.path, capture_output=True, text=True, timeout=120)
    return None if ran.returncode == 0 else ran.stderr[-4000:]


# The recordings the README's shell blocks name, made by the tools that make them for users: pytest-recording's
# VCR.py cassette (vcrpy) and a HAR (`st run --report har` standing in for a browser's), both of a live fake in the
# production profile, both holding the token in clear.
RECORDINGS = {"tests/cassettes/test_face/test_generate.yaml": "vcrpy", "qolaba.har": "har"}
# Shell blocks that work on those recordings instead of calling a running fake.
RECORDING_COMMANDS = ("qolaba-mock diff --cassette ", "qolaba-mock cassette ")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.contracts.cassette.real_recordings import record_schemathesis, record_vcrpy

    folder = tmp_path_factory.mktemp("readme-recordings")
    for name, tool in RECORDINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if tool == "vcrpy":
            record_vcrpy(path, fidelity="production")
        else:
            record_schemathesis(path, report="har", fidelity="production")
    return folder


@pytest.fixture
def beside_recordings(recordings: Path, tmp_path: Path) -> Path:
    """A folder holding the recordings, for a block to run in (and write beside)."""
    folder = tmp_path / "project"
    shutil.copytree(recordings, folder)
    return folder


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    """`qolaba-mock serve` as `make serve` runs it, on a free port; its base URL."""
    command = [str(BIN / "qolaba-mock"), "serve", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as server:
        assert server.stdout is not None and server.stderr is not None
        try:
            line = server.stdout.readline()
            assert line.startswith("qolaba-mock serving on "), line + server.stderr.read()
            yield line.rsplit(" ", 1)[1].strip()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def test_every_block_says_what_it_is() -> None:
    unlabelled = [block.line for block in BLOCKS if block.language not in RUN_LANGUAGES | SHOWN_LANGUAGES]
    assert unlabelled == [], f"README.md lines {unlabelled}: label each fence (python, sh, or json/ini/toml/text)"


def test_only_code_is_marked_not_run() -> None:
    misplaced = [block.line for block in BLOCKS if block.not_run and block.language not in RUN_LANGUAGES]
    assert misplaced == []


def test_the_readme_has_the_blocks_this_file_runs() -> None:
    """A parser that found no blocks would pass every test below; the README has at least these."""
    assert len(_blocks("python")) >= 6
    assert len(_blocks("sh")) >= 5


@pytest.mark.parametrize("block", _blocks("python"))
def test_python_block_runs_as_written(block: Block, pytester: pytest.Pytester) -> None:
    failure = run_python_block(block, pytester)
    assert failure is None, f"README.md:{block.line} does not run as written:\n{failure}"


@pytest.mark.parametrize("block", _blocks("sh"))
def test_shell_block_runs_as_written(block: Block, served: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    commands = [line for line in block.code.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    needs_recordings = any(name in block.code for name in RECORDINGS)
    folder: Path = request.getfixturevalue("beside_recordings") if needs_recordings else tmp_path
    if all(command.startswith("qolaba-mock serve") for command in commands):
        for command in commands:
            _serve_as_written(command, folder)
        return
    if all(command.startswith(RECORDING_COMMANDS) for command in commands):
        for command in commands:
            ran = subprocess.run(
                ["bash", "-c", command], cwd=folder, env=SHELL_ENV, capture_output=True, text=True, timeout=120
            )
            assert ran.returncode == 0, f"{command}: exit {ran.returncode}\n{ran.stdout[-2000:]}{ran.stderr}"
        return
    assert README_URL in block.code, "a shell block that does not call the fake needs a `not run` comment"
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.code.replace(README_URL, served)],
        cwd=tmp_path,
        env=SHELL_ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)
    assert answer.get("error") is None, answer


def _serve_as_written(command: str, cwd: Path) -> None:
    env = {**SHELL_ENV, "QOLABA_MOCK_PORT": "0"}
    with subprocess.Popen(
        ["bash", "-c", f"exec {command}"], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as server:
        assert server.stdout is not None and server.stderr is not None
        try:
            line = server.stdout.readline()
            assert line.startswith("qolaba-mock serving on "), f"{command}: {line}{server.stderr.read()}"
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
        # uvicorn shuts down cleanly, then ends by the signal it was sent, as a Unix process should; stderr holds
        # nothing but what the README says `serve` tells of a recording (notes, the credentials warning).
        stderr = server.stderr.read()
        told = ("qolaba-mock: note: ", "qolaba-mock: warning: ")
        unexpected = [line for line in stderr.splitlines() if not line.startswith(told)]
        assert server.returncode in (0, -signal.SIGTERM) and not unexpected, f"{command}: {server.returncode}: {stderr}"


BROKEN_README = """
Some prose.

```python
import mockserver

mockserver.no_such_thing()
```

<!-- not run: an illustration -->
```python
this is not Python
```

```python
def test_fails():
    assert 1 == 2
```
"""


def test_an_unmarked_python_block_that_fails_fails_this_check(pytester: pytest.Pytester) -> None:
    script, marked, test_module = code_blocks(BROKEN_README)

    assert run_python_block(script, pytester) is not None
    assert not marked.runs and marked.not_run == "an illustration"
    assert run_python_block(test_module, pytester) is not None


def test_an_unclosed_fence_is_an_error_naming_its_line() -> None:
    with pytest.raises(ValueError, match="line 2: a ``` fence is never closed"):
        code_blocks("text\n```python\nprint(1)\n")
