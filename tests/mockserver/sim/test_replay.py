"""A fake replaying a recording another tool made (VCR.py, schemathesis) answers as recorded, and matching can
leave out the body fields that vary from call to call (`replay_ignore`)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import vcr

from mockserver import Config, ConfigError, LiveServer, VirtualClock
from mockserver.cli import main
from tests.conftest import valid_body
from tests.contracts.cassette.real_recordings import SECRET, record_schemathesis, record_vcrpy
from tests.contracts.client_session import comparable, script

pytest_plugins = ["pytester"]


@pytest.fixture(scope="module")
def vcrpy_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[httpx.Response]]:
    path = tmp_path_factory.mktemp("vcr") / "test_generate.yaml"
    return path, record_vcrpy(path, fidelity="production")


def test_a_vcrpy_cassette_replays_the_session_it_recorded(vcrpy_recording: tuple[Path, list[httpx.Response]]) -> None:
    path, recorded = vcrpy_recording
    clock = VirtualClock()
    with LiveServer(Config(replay=str(path), replay_strict=True), clock=clock) as replay:
        replayed = script(replay.url, clock.advance)
    assert [comparable(a) for a in replayed] == [comparable(a) for a in recorded[: len(replayed)]]
    assert replayed[2].json()["status"] == "PENDING" and replayed[3].json()["status"] == "SUCCESS"


def test_the_marker_replays_a_schemathesis_har_in_process(tmp_path: Path, pytester: pytest.Pytester) -> None:
    har = tmp_path / "st.har"
    record_schemathesis(har, report="har")
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(
        test_user=f"""
import httpx, pytest

@pytest.mark.qolaba(cassette={str(har)!r}, replay_strict=True)
def test_replayed(qolaba_mock):
    with httpx.Client(transport=qolaba_mock.transport(), base_url="http://testserver") as client:
        # schemathesis's unauthenticated call, as the fake with a token set answered it
        answer = client.post("/getImage", json={{"id": "6f1c2a9e-8d3b-4c5e-9f7a-0b1c2d3e4f50"}})
        assert answer.status_code == 401
        assert client.post("/getImage", json={{"id": "never recorded"}}).status_code == 404
"""
    )
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A client that sends a random seed and a nonce with every submit, recorded by VCR.py."""
    path = tmp_path_factory.mktemp("vcr") / "seeded.yaml"
    with LiveServer(Config(latency="none")) as fake, vcr.use_cassette(str(path), record_mode="all"):
        body = valid_body(seed=1234, client={"nonce": "a1", "sent_at": "10:00"})
        httpx.post(fake.url + "/getImagetoImage", json=body, headers={"Authorization": "Bearer t"}, timeout=10)
    return path


def _submit(url: str, **changes: object) -> httpx.Response:
    body = valid_body(seed=99, client={"nonce": "zz", "sent_at": "11:00"}, **changes)
    return httpx.post(url + "/getImagetoImage", json=body, headers={"Authorization": "Bearer t"}, timeout=10)


@pytest.mark.parametrize(
    ("ignore", "matched"),
    [
        pytest.param((), False, id="by default the whole body is matched"),
        pytest.param(("seed",), False, id="the nonce still differs"),
        pytest.param(("seed", "/client/nonce", "/client/sent_at"), True, id="names and JSON pointers"),
        pytest.param("seed,/client", True, id="one text, as the flag takes it"),
    ],
)
def test_replay_ignore_leaves_the_named_fields_out_of_matching(
    seeded: Path, ignore: tuple[str, ...] | str, matched: bool
) -> None:
    config = Config(replay=str(seeded), replay_strict=True, replay_ignore=ignore)  # type: ignore[arg-type]
    with LiveServer(config) as replay:
        answer = _submit(replay.url)
        other_prompt = _submit(replay.url, prompt="another prompt")
    assert (answer.status_code == 200) is matched
    assert other_prompt.status_code == 404  # a field not ignored still decides
    if not matched:
        assert answer.json()["error"] == "No Recorded Exchange"
    if matched:
        assert answer.json()["input"]["seed"] == 1234  # the answer as recorded


def test_replay_ignore_is_set_by_flag_variable_file_or_marker_and_a_bad_one_is_named(
    seeded: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from mockserver.config.sources import load_config

    assert load_config({"replay_ignore": "seed, /client"}, {}).replay_ignore == ("seed", "/client")
    assert load_config({}, {"QOLABA_MOCK_REPLAY_IGNORE": "seed"}).replay_ignore == ("seed",)
    toml = tmp_path / "mock.toml"
    toml.write_text('replay_ignore = ["seed", "/client/nonce"]\n')
    assert load_config({}, {}, str(toml)).replay_ignore == ("seed", "/client/nonce")
    with pytest.raises(ConfigError, match=r"replay_ignore: '/client/~2' is not a JSON pointer"):
        Config(replay_ignore=("/client/~2",))
    assert main(["serve", "--port", "0", "--replay", str(seeded), "--replay-ignore", "/a/~x"]) == 2
    assert capsys.readouterr().err == (
        "qolaba-mock: error: --replay-ignore: replay_ignore: '/a/~x' is not a JSON pointer: '~' must be followed by "
        "0 or 1 (RFC 6901)\n"
    )


def test_a_strict_replay_says_which_fields_it_did_not_match_on(seeded: Path) -> None:
    with LiveServer(Config(replay=str(seeded), replay_strict=True, replay_ignore=("seed",))) as replay:
        answer = _submit(replay.url, prompt="another prompt")
    assert answer.json()["error_data"].endswith("with this body and authentication. Not matched on: seed.")


def test_the_recorded_token_never_reaches_a_replayed_answer(vcrpy_recording: tuple[Path, list[httpx.Response]]) -> None:
    path, _ = vcrpy_recording
    clock = VirtualClock()
    with LiveServer(Config(replay=str(path)), clock=clock) as replay:
        answers = script(replay.url, clock.advance, token="another-token")
        journal = httpx.get(replay.url + "/__admin/journal", timeout=10)
    assert SECRET not in journal.text + "".join(a.text for a in answers)
