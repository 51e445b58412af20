"""The `qolaba-mock` command: a live server over a real socket, the contract printout, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
import yaml

from contracts import load_schema
from mockserver.cli import build_parser, main
from tests.conftest import valid_body

CLI = [sys.executable, "-m", "mockserver.cli"]


@pytest.fixture
def live_url() -> Iterator[str]:
    """`qolaba-mock serve --port 0` as a subprocess; the port it chose is read from its first line."""
    command = [*CLI, "serve", "--port", "0", "--seed", "4", "--token", "sk-live", "--time-scale", "0.0001"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            line = process.stdout.readline()
            assert line.startswith("qolaba-mock serving on http://127.0.0.1:"), line + process.stderr.read()
            yield line.rsplit(" ", 1)[1].strip()
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def test_live_server_serves_sync_queued_and_outputs_over_a_socket(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers={"Authorization": "Bearer sk-live"}, timeout=10) as client:
        sync = client.post("/api/v1/studio/getImagetoImage", json=valid_body(width=512, height=768))
        assert sync.status_code == 200 and sync.json()["status"] == "SUCCESS"
        image_url = sync.json()["output"]["result"][0]
        assert image_url.startswith(live_url + "/outputs/")
        image = client.get(image_url)
        assert image.headers["content-type"] == "image/jpeg" and image.content[:3] == b"\xff\xd8\xff"

        task_id = client.post("/getImagetoImage", json=valid_body(celery=True)).json()["task_id"]
        assert client.post("/getImage", json={"id": task_id}).json()["status"] in {"PENDING", "SUCCESS"}

        refused = client.post("/getImage", json={"id": task_id}, headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert client.get("/__admin/health").json()["status"] == "ok"


def test_live_server_answers_413_for_a_huge_body_and_keeps_serving(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers={"Authorization": "Bearer sk-live"}, timeout=10) as client:
        assert client.post("/getImage", content=b" " * (3 * 1024 * 1024)).status_code == 413
        assert client.post("/getImage", json={"id": "x"}).status_code == 200


def test_the_admin_config_shows_the_port_serve_port_0_bound(live_url: str) -> None:
    with httpx.Client(base_url=live_url, headers={"Authorization": "Bearer sk-live"}, timeout=10) as client:
        config = client.get("/__admin/config").json()

    assert config["port"] == int(live_url.rsplit(":", 1)[1]) != 0


def test_busy_port_is_a_one_line_error(live_url: str) -> None:
    port = live_url.rsplit(":", 1)[1]
    result = subprocess.run([*CLI, "serve", "--port", port], capture_output=True, text=True, timeout=30)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"qolaba-mock: error: cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "the following arguments are required: COMMAND"),
        (["serve", "--port", "99999"], "port=99999 must be an integer 0..65535"),
        (["serve", "--port", "abc"], "--port: port='abc' must be an integer 0..65535"),
        (["serve", "--seed", "-1"], "seed=-1 must be a non-negative integer"),
        (["serve", "--host", "not a host"], "host='not a host' must be an IP address or host name"),
        (["serve", "--token", ""], "tokens must be a list of non-empty strings"),
        (["serve", "--bogus"], "unrecognized arguments: --bogus"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("qolaba-mock: error: ")
    assert message in err


@pytest.mark.parametrize(
    ("given", "sent"), [("60/min", "60/m"), ("100/m", "100/m"), ("2/second", "2/s"), ("1/day", "1/d")]
)
def test_contract_rate_limit_takes_the_serve_spellings_and_hands_schemathesis_its_own(given: str, sent: str) -> None:
    args = build_parser().parse_args(["contract", "--base-url", "http://x", "--rate-limit", given])
    schema = schemathesis.openapi.from_dict(load_schema())
    schema.config.update(rate_limit=args.rate_limit)  # raises on a spelling schemathesis cannot read

    assert args.rate_limit == sent


def test_spec_prints_the_contract_as_yaml_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec"]) == 0
    as_yaml = yaml.safe_load(capsys.readouterr().out)
    assert main(["spec", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == as_yaml
    assert as_yaml["openapi"].startswith("3.1")


def test_console_script_is_installed() -> None:
    script = os.path.join(os.path.dirname(sys.executable), "qolaba-mock")
    result = subprocess.run([script, "spec"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "getImagetoImage" in result.stdout


@pytest.mark.parametrize(
    ("fidelity", "note"), [("production", ""), ("legacy", "'legacy' is now called 'production-2024'")]
)
def test_serve_answers_in_the_fidelity_it_is_given(fidelity: str, note: str) -> None:
    command = [*CLI, "serve", "--port", "0", "--latency", "none", "--fidelity", fidelity]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stderr is not None
        try:
            url = process.stdout.readline().rsplit(" ", 1)[1].strip()
            unauthenticated = httpx.post(f"{url}/getImage", json={"id": "x"}, timeout=10)
            invalid = httpx.post(
                f"{url}/getImagetoImage", json=valid_body(batch=9), headers={"Authorization": "Bearer t"}, timeout=10
            )
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=10)
        stderr = process.stderr.read()

    assert (unauthenticated.status_code, unauthenticated.json()) == (403, {"detail": "Not authenticated"})
    assert invalid.json()["error"] == "Internal Error" and "validation error" in invalid.json()["error_data"]
    assert note in stderr


def test_an_unknown_fidelity_is_one_line_naming_the_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--fidelity", "prod"]) == 2
    assert capsys.readouterr().err == (
        "qolaba-mock: error: --fidelity: fidelity='prod' must be 'contract' or 'production' or 'production-2024'\n"
    )
