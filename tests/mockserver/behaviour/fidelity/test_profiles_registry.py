"""A new fidelity profile is one `register(Profile(...))`: every list of profiles reads the registry.

`extra_profile` (tests/conftest.py) registers a profile of the test's own for one test; here it shows up in
`serve --fidelity`, the pytest plugin's marker and ini, `diff --fidelity` and the fingerprint.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from contracts.client.target import Target
from contracts.probe.matrix import run_probe
from contracts.spec.credentials import bearer
from contracts.traffic.fingerprint import agreements, fingerprint
from mockserver.behaviour.fidelity.profiles import (
    ALIASES,
    CONTRACT,
    Profile,
    profile,
    profile_names,
    profiles,
    register,
    unregister,
)
from mockserver.cli import _serve_config, build_parser, main
from mockserver.config.settings import Config, ConfigError
from mockserver.testing.in_profile import BASE_URL, fake_in_profile

pytest_plugins = ["pytester"]

BUILT_IN = ("contract", "production", "production-2024")


def test_the_built_in_profiles_are_registered_in_order() -> None:
    assert profile_names() == BUILT_IN
    assert list(profiles()) == list(BUILT_IN) and profile("legacy") is profiles()["production-2024"]


def test_a_registered_profile_is_listed_until_it_is_removed(extra_profile: Profile) -> None:
    assert profile_names() == (*BUILT_IN, extra_profile.name)
    assert profile(extra_profile.name) is extra_profile
    unregister(extra_profile.name)
    assert profile_names() == BUILT_IN
    register(extra_profile)  # the fixture removes it again


@pytest.mark.parametrize("name", [*BUILT_IN, *ALIASES, ""])
def test_a_taken_name_or_an_old_alias_cannot_be_registered_again(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be called"):
        register(dataclasses.replace(CONTRACT, name=name))
    assert profile_names() == BUILT_IN


def test_an_unknown_profile_is_refused_naming_every_registered_one(extra_profile: Profile) -> None:
    with pytest.raises(KeyError, match=f"must be one of contract, production, production-2024, {extra_profile.name}"):
        profile("nope")
    with pytest.raises(ConfigError, match=f"'production-2024' or '{extra_profile.name}'"):
        Config(fidelity="nope")


def test_serve_lists_a_registered_profile_and_serves_in_it(
    extra_profile: Profile, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    assert extra_profile.name in " ".join(capsys.readouterr().out.split())
    config = _serve_config(build_parser().parse_args(["serve", "--fidelity", extra_profile.name]))
    assert config.fidelity == extra_profile.name


def test_the_pytest_plugin_takes_a_registered_profile_from_the_marker_and_the_ini(
    extra_profile: Profile, pytester: pytest.Pytester
) -> None:
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n")
    pytester.makeini(f"[pytest]\nqolaba_fidelity = {extra_profile.name}\n")
    pytester.makepyfile(
        test_user=f"""
import pytest

async def keys(client):
    return sorted((await client.post("/getImage", json={{"id": "x"}})).json())

@pytest.mark.anyio
async def test_from_ini(qolaba_client):
    assert "app_id" not in await keys(qolaba_client)

@pytest.mark.anyio
@pytest.mark.qolaba(fidelity="contract")
async def test_marker_back_to_contract(qolaba_client):
    assert "app_id" in await keys(qolaba_client)

@pytest.mark.anyio
@pytest.mark.qolaba(fidelity="{extra_profile.name}")
async def test_from_marker(qolaba_client):
    assert "app_id" not in await keys(qolaba_client)

@pytest.mark.qolaba(fidelity="nope")
def test_misnamed(qolaba_mock):
    pass
"""
    )

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines([f"*fidelity*'nope'*'{extra_profile.name}'*"])


def _cassette_of(name: str, path: Path) -> Path:
    """Two exchanges recorded from the fake in profile `name`: a status read, and one without credentials."""
    lines: list[dict[str, object]] = [{"qolaba_mock_cassette": 1, "upstream": "https://api.example/api/v1/studio"}]
    with fake_in_profile(name, frozenset({"t1"})) as fake:
        for seq, (auth, headers) in enumerate([("bearer", bearer("t1")), (None, {})], start=1):
            request = {"id": "00000000-0000-4000-8000-000000000000"}
            answer = fake.client.post("/getImage", json=request, headers=headers)
            lines.append(
                {
                    "seq": seq,
                    "at": float(seq),
                    "method": "POST",
                    "path": "/getImage",
                    "auth": auth,
                    "token": "t1" if auth else None,
                    "request": {"content_type": "application/json", "json": request},
                    "response": {
                        "status": answer.status_code,
                        "headers": {"content-type": answer.headers["content-type"]},
                        "json": answer.json(),
                    },
                    "seconds": 0.01,
                }
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_diff_compares_with_a_registered_profile_and_finds_it_closest(
    extra_profile: Profile, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cassette = str(_cassette_of(extra_profile.name, tmp_path / "extra.jsonl"))

    assert main(["diff", "--cassette", cassette, "--fidelity", extra_profile.name]) == 0
    assert main(["diff", "--cassette", cassette, "--fidelity", "contract"]) == 1
    capsys.readouterr()
    assert main(["diff", "--cassette", cassette]) == 0  # --fidelity auto

    closest = capsys.readouterr().err
    assert closest.startswith(f"closest profile: {extra_profile.name} (differences: contract ")
    assert f"{extra_profile.name} 0)" in closest


def test_the_fingerprint_holds_a_target_against_a_registered_profile_too(extra_profile: Profile) -> None:
    with fake_in_profile(extra_profile.name, frozenset({"sk"})) as target:
        report = run_probe(Target(BASE_URL, token="sk"), transport=target.transport(), sleep=target.clock.advance)

    found = agreements(report)

    assert [agreement.profile for agreement in found] == [*BUILT_IN, extra_profile.name]
    theirs = found[-1]
    assert theirs.compared == len(report.rows) > 0 and theirs.agreeing == theirs.compared
    # The probe rows carry no envelope keys: the contract answers them alike, and, registered first, wins the tie.
    assert fingerprint(report).profile == "contract"
