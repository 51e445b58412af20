"""Recordings made by the tools users record with, of a live fake on loopback: none is written by hand.

- `record_vcrpy`: VCR.py (what pytest-recording runs) recording an httpx client's session, YAML as it writes it;
- `record_schemathesis`: `st run --report har` or `--report vcr` (Ruby VCR's layout) against the fake.

Each holds the session's token in clear, as such files do: `SECRET`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import vcr

from contracts.spec.schema import contract_text
from mockserver import Config, LiveServer, VirtualClock
from tests.contracts.client_session import SECRET, script, session_with_image

ST = Path(sys.executable).parent / "st"


def record_vcrpy(path: Path, *, fidelity: str = "contract", serializer: str = "yaml") -> list[httpx.Response]:
    """The client session of tests/contracts/client_session.py against the fake in `fidelity`, recorded by
    VCR.py into `path` (YAML, VCR.py's default, or JSON, which holds no image: VCR.py refuses bytes there); the
    answers the client got."""
    clock = VirtualClock()
    config = Config(fidelity=fidelity, latency="fixed:20s", tokens=frozenset({SECRET}))
    with LiveServer(config, clock=clock) as fake, vcr.use_cassette(str(path), record_mode="all", serializer=serializer):
        if serializer == "json":
            return script(fake.url, clock.advance)
        return session_with_image(fake.url, clock.advance)


def record_schemathesis(path: Path, *, report: str = "har", fidelity: str = "contract", examples: int = 5) -> None:
    """`st run --report har|vcr` against the fake in `fidelity`, with the token in clear (no sanitizing)."""
    spec = path.parent / "openapi.yaml"
    spec.write_text(contract_text(), encoding="utf-8")
    with LiveServer(Config(fidelity=fidelity, tokens=frozenset({SECRET}))) as fake:
        command = [
            str(ST), "run", str(spec), "--url", fake.url, "--max-examples", str(examples), "--seed", "1",
            "--phases", "examples,fuzzing", "--checks", "not_a_server_error,ignored_auth", "--output-sanitize", "false",
            "-H", f"Authorization: Bearer {SECRET}", "--report", report, f"--report-{report}-path", str(path),
        ]  # fmt: skip
        ran = subprocess.run(command, cwd=path.parent, capture_output=True, text=True, timeout=300)
    assert path.exists(), f"st run wrote no {report} report (exit {ran.returncode}):\n{ran.stdout[-2000:]}"


def record_ours(path: Path, *, fidelity: str = "contract") -> list[httpx.Response]:
    """The same session through `qolaba-mock record`'s proxy in front of the fake: a cassette of ours."""
    from contracts.traffic.recording_proxy import recording_proxy

    clock = VirtualClock()
    config = Config(fidelity=fidelity, latency="fixed:20s", tokens=frozenset({SECRET}))
    with LiveServer(config, clock=clock) as upstream:
        proxy_app = recording_proxy(upstream.url, path, say=lambda line: None)
        try:
            with LiveServer(Config(), app=proxy_app) as proxy:
                return session_with_image(proxy.url, clock.advance, through=True)
        finally:
            proxy_app.state.close()
