"""`qolaba-mock cassette convert`, and the token a HAR or VCR file holds in clear going nowhere we print, serve,
journal or write; the recordings are made by VCR.py and schemathesis against a live fake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import jsonschema_rs
import pytest

from contracts.cassette.jsonl import read_jsonl
from contracts.cassette.reading import read_cassette
from mockserver import Config, LiveServer, VirtualClock
from mockserver.cli import main
from tests.contracts.cassette.har_structure import HAR_1_2, chromium_import_problems
from tests.contracts.cassette.real_recordings import SECRET, record_schemathesis, record_vcrpy
from tests.test_dependencies import ROOT, WITHOUT_SCHEMATHESIS

WARNING = "holds credentials in clear (an Authorization header)"


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A VCR.py cassette (YAML) and a schemathesis HAR, each holding `Authorization: Bearer sk-…` in clear."""
    folder = tmp_path_factory.mktemp("recordings")
    record_vcrpy(folder / "vcrpy.yaml", fidelity="production")
    record_schemathesis(folder / "st.har", report="har")
    made = {"vcr": folder / "vcrpy.yaml", "har": folder / "st.har"}
    assert all(SECRET in path.read_text("utf-8", "replace") for path in made.values())  # as such files do
    return made


@pytest.mark.parametrize("kind", ["vcr", "har"])
def test_convert_writes_a_har_that_validates_holds_no_token_and_says_the_input_held_one(
    recordings: dict[str, Path], kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.har"
    assert main(["cassette", "convert", str(recordings[kind]), str(out)]) == 0
    captured = capsys.readouterr()

    har = json.loads(out.read_bytes())
    assert [e.message for e in jsonschema_rs.validator_for(HAR_1_2, validate_formats=True).iter_errors(har)] == []
    assert chromium_import_problems(har) == []
    assert SECRET not in out.read_text() + captured.out + captured.err
    assert captured.err.count(WARNING) == 1
    assert f"wrote {out} ({len(har['log']['entries'])} exchanges, no token)" in captured.err
    assert read_cassette(out).exchanges == read_cassette(recordings[kind]).exchanges


@pytest.mark.parametrize("kind", ["vcr", "har"])
def test_convert_writes_a_cassette_of_ours_with_names_for_tokens(
    recordings: dict[str, Path], kind: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    assert main(["cassette", "convert", str(recordings[kind]), str(out)]) == 0
    assert SECRET not in out.read_text()
    assert read_jsonl(out).exchanges == read_cassette(recordings[kind]).exchanges


def test_convert_never_overwrites_and_asks_which_format_when_the_name_does_not_say(
    recordings: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "taken.har"
    taken.write_text("mine")
    assert main(["cassette", "convert", str(recordings["vcr"]), str(taken)]) == 2
    assert main(["cassette", "convert", str(recordings["vcr"]), str(tmp_path / "out.txt")]) == 2
    assert main(["cassette", "convert", str(recordings["vcr"]), str(tmp_path / "out.txt"), "--to", "har"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"qolaba-mock: error: OUT {taken} exists; a recording is never overwritten: choose another file"
    assert err[1].startswith("qolaba-mock: error: OUT ") and "--to har|jsonl" in err[1]
    assert taken.read_text() == "mine"


@pytest.mark.parametrize(("kind", "other_profile"), [("vcr", "contract"), ("har", "production")])
def test_diff_of_a_recording_with_a_token_in_clear_never_prints_it(
    recordings: dict[str, Path], kind: str, other_profile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "--cassette", str(recordings[kind]), "--fidelity", other_profile]) == 1
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err and "Bearer $TOKEN" in captured.out
    assert captured.err.count(WARNING) == 1


@pytest.mark.parametrize("kind", ["vcr", "har"])
def test_a_fake_replaying_a_recording_with_a_token_serves_and_journals_none_of_it(
    recordings: dict[str, Path], kind: str
) -> None:
    config = Config(replay=str(recordings[kind]), clock="virtual")
    served = []
    with LiveServer(config, clock=VirtualClock()) as fake, httpx.Client(base_url=fake.url, timeout=10) as client:
        for exchange in read_cassette(recordings[kind]).exchanges:
            # X-Mock-Latency: answered at once, not after the seconds the recording took, on a clock nobody moves
            headers = {"X-Mock-Latency": "none"}
            if exchange.auth == "bearer":
                headers["Authorization"] = "Bearer client-token"
            served.append(
                client.request(exchange.method, exchange.path, content=exchange.request.raw(), headers=headers)
            )
        journal = client.get("/__admin/journal", params={"limit": 1000})
    assert journal.status_code == 200 and len(journal.json()["entries"]) == len(served)
    assert SECRET not in journal.text + "".join(
        answer.text for answer in served if answer.headers.get("content-type", "").startswith("application/json")
    )


def test_cassette_convert_needs_none_of_the_contract_tools(recordings: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.har"
    argv = ["cassette", "convert", str(recordings["vcr"]), str(out)]
    run = f"from mockserver.cli import main; raise SystemExit(main({argv!r}))"
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_SCHEMATHESIS + run], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert out.exists()
