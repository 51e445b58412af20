"""Real traffic: record a client through the proxy, replay it, diff the fake against it, fingerprint a target.

Everything runs on loopback: the "production" here is a live fake in the production profile.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from contracts.cassette.jsonl import CassetteError
from contracts.cassette.reading import read_cassette
from contracts.traffic.recording_proxy import recording_proxy
from mockserver import Config, VirtualClock
from mockserver.cli import main
from mockserver.server.live_server import LiveServer
from tests.conftest import TOKEN, valid_body
from tests.contracts.client_session import SECRET, comparable, script
from tests.contracts.drifted_fakes import DRIFTS, live

pytest_plugins = ["pytester"]

TOKEN_ENV = "QOLABA_TRAFFIC_KEY"


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[httpx.Response], list[str]]:
    cassette = tmp_path_factory.mktemp("cassettes") / "production.jsonl"
    clock = VirtualClock()
    said: list[str] = []
    config = Config(fidelity="production", latency="fixed:20s", tokens=frozenset({SECRET}))
    with LiveServer(config, clock=clock) as upstream:
        proxy_app = recording_proxy(upstream.url, cassette, say=said.append)
        with LiveServer(Config(), app=proxy_app) as proxy:
            answers = script(proxy.url, clock.advance)
        proxy_app.state.close()
    return cassette, answers, said


def test_the_proxy_forwards_every_answer_and_writes_one_line_each(
    recorded: tuple[Path, list[httpx.Response], list[str]],
) -> None:
    path, answers, _ = recorded
    cassette = read_cassette(path)

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 200, 200, 403]
    assert [(a.json().get("status"), a.json().get("error")) for a in answers[:7]] == [
        ("SUCCESS", None),
        ("PENDING", None),
        ("PENDING", None),
        ("SUCCESS", None),
        ("PENDING", None),
        ("FAILED", "Face Consistent Error"),
        ("FAILED", "Internal Error"),
    ]
    assert len(cassette.exchanges) == len(answers)
    polls = [e for e in cassette.exchanges if e.task is not None]
    assert [p.task["submit"] for p in polls] == [2, 2, 5]  # type: ignore[index]
    assert all(p.task["offset"] >= 0 for p in polls)  # type: ignore[index]


def test_the_cassette_holds_no_token(recorded: tuple[Path, list[httpx.Response], list[str]]) -> None:
    path, _, _ = recorded
    text = path.read_text()
    assert SECRET not in text
    assert {json.loads(line).get("token") for line in text.splitlines()[1:]} == {"t1", None}


def test_violations_of_the_contract_are_printed_as_they_pass(
    recorded: tuple[Path, list[httpx.Response], list[str]],
) -> None:
    _, _, said = recorded
    assert said and all(line.startswith("violation: POST /") for line in said)
    assert any("missing ['app_id']" in line for line in said)  # production's seven keys
    refusals = [line for line in said if "not in the contract's words" in line]
    assert refusals == [
        "violation: POST /getImagetoImage -> HTTP 200: refused in the job (pydantic) naming batch, "
        "not in the contract's words (a 4xx envelope listing each field)",
        "violation: POST /getImage -> HTTP 403: refused at once (fastapi), "
        "not in the contract's words (a 4xx envelope listing each field)",
    ]


def test_a_replay_answers_the_same_client_the_same_on_the_recorded_timeline(
    recorded: tuple[Path, list[httpx.Response], list[str]],
) -> None:
    path, answers, _ = recorded
    clock = VirtualClock()
    with LiveServer(Config(replay=str(path), replay_strict=True, clock="virtual"), clock=clock) as replay:
        replayed = script(replay.url, clock.advance)
        image = httpx.get(replayed[0].json()["output"]["result"][0], timeout=10)

    assert [comparable(a) for a in replayed] == [comparable(a) for a in answers]
    assert replayed[1].json()["task_id"] != answers[1].json()["task_id"]  # a fresh id, on the fake's clock
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"


def test_a_strict_replay_refuses_what_it_did_not_record(recorded: tuple[Path, list[httpx.Response], list[str]]) -> None:
    path, _, _ = recorded
    with LiveServer(Config(replay=str(path), replay_strict=True)) as replay:
        answer = httpx.post(
            replay.url + "/getImagetoImage", json=valid_body(batch=3), headers={"Authorization": "Bearer t"}
        )
    assert answer.status_code == 404 and answer.json()["error"] == "No Recorded Exchange"


def test_a_replay_keeps_only_the_newest_tasks_past_its_bound(
    recorded: tuple[Path, list[httpx.Response], list[str]],
) -> None:
    path, _, _ = recorded
    config = Config(replay=str(path), replay_strict=True, clock="virtual", max_tasks=2)
    headers = {"Authorization": f"Bearer {SECRET}"}
    with LiveServer(config, clock=VirtualClock()) as replay, httpx.Client(base_url=replay.url, headers=headers) as c:
        ids = [c.post("/getImagetoImage", json=valid_body(celery=True)).json()["task_id"] for _ in range(3)]
        polled = [c.post("/getImage", json={"id": task_id}) for task_id in ids]
    assert len(set(ids)) == 3
    assert polled[0].status_code == 404  # forgotten: an id no recording knows
    assert [p.json()["status"] for p in polled[1:]] == ["PENDING", "PENDING"]


def test_the_pytest_marker_replays_a_cassette_in_process(
    recorded: tuple[Path, list[httpx.Response], list[str]], pytester: pytest.Pytester
) -> None:
    path, _, _ = recorded
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    pytester.makepyfile(
        test_user=f"""
import httpx, pytest

@pytest.mark.anyio
@pytest.mark.qolaba(cassette={str(path)!r})
async def test_replayed(qolaba_mock):
    # Recorded without a token: answered as production answered it, not as the model would.
    async with httpx.AsyncClient(transport=qolaba_mock.async_transport(), base_url="http://testserver") as client:
        answer = await client.post("/getImage", json={{"id": "x"}})
    assert answer.status_code == 403 and answer.json() == {{"detail": "Not authenticated"}}
"""
    )
    pytester.makeconftest("import pytest\n\n@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n")
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize(("fidelity", "code"), [("production", 0), ("contract", 1), ("auto", 0)])
def test_diff_against_the_recording_is_clean_only_for_the_profile_it_was_recorded_in(
    recorded: tuple[Path, list[httpx.Response], list[str]], fidelity: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _, _ = recorded
    assert main(["diff", "--cassette", str(path), "--fidelity", fidelity]) == code
    captured = capsys.readouterr()
    if code:
        assert "keys: target" in captured.out and "code: target 200, fake 422" in captured.out  # the rows, named
        assert '"Authorization: Bearer $TOKEN"' in captured.out
    else:
        assert captured.out.rstrip().endswith("no differences")
    if fidelity == "auto":
        assert captured.err.startswith("closest profile: production")


def test_a_cassette_with_a_bad_line_is_one_line_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"qolaba_mock_cassette": 1, "upstream": "http://x"}\n{"seq": 1}\nnot json\n')
    with pytest.raises(CassetteError, match=r"bad.jsonl:2: at=null must be a non-negative number of seconds"):
        read_cassette(bad)
    assert main(["diff", "--cassette", str(bad)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


@pytest.fixture
def token_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv(TOKEN_ENV, SECRET)
    yield TOKEN_ENV


@pytest.mark.parametrize("fidelity", ["production", "contract"])
def test_the_probe_names_the_profile_a_live_target_answers_like(
    fidelity: str, token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with LiveServer(Config(fidelity=fidelity, tokens=frozenset({SECRET}))) as target:
        main(["probe", "--base-url", target.url, "--token-env", token_env, "--poll-interval", "0.01"])
    last = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert last.startswith(f"closest profile: {fidelity} (60/60 rows agree")


def test_diff_against_a_live_drifted_fake_names_the_drift(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)  # the drifted fakes' own token
    token_env = TOKEN_ENV
    with live(DRIFTS["batch_max_widened"]) as target:
        code = main(["diff", "--base-url", target.url, "--token-env", token_env, "--fidelity", "contract"])
    out = capsys.readouterr().out
    assert code == 1
    assert '"batch": 9' in out and "error_data shape" in out


def test_diff_against_the_live_faithful_fake_finds_nothing(token_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    with LiveServer(Config(tokens=frozenset({SECRET}))) as target:
        code = main(["diff", "--base-url", target.url, "--token-env", token_env, "--fidelity", "contract"])
    assert code == 0, capsys.readouterr().out


def test_a_fake_that_takes_any_token_differs_once_and_the_curl_line_shows_the_made_up_token(
    token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with LiveServer(Config(fidelity="production")) as target:  # `make serve` accepts every token
        code = main(["diff", "--base-url", target.url, "--token-env", token_env, "--fidelity", "production"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.rstrip().endswith("1 difference")
    assert "'Authorization: Bearer qolaba-mock-made-up-token'" in out and "('Invalid API Key',)" in out
    assert SECRET not in out


def test_record_refuses_to_overwrite_a_cassette_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    existing = tmp_path / "kept.jsonl"
    existing.write_text("precious\n")
    assert main(["record", "--upstream", "http://127.0.0.1:9", "--port", "0", "--out", str(existing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is never overwritten" in err
    assert existing.read_text() == "precious\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff"], "one of the arguments --base-url --cassette is required"),
        (["diff", "--cassette", "missing.jsonl"], "missing.jsonl: cannot be read"),
        (["record", "--upstream", "ftp://x", "--out", "x.jsonl"], "must be an absolute http:// or https:// URL"),
        (["record", "--upstream", "http://x", "--port", "99999", "--out", "x.jsonl"], "is not a port"),
        (["diff", "--base-url", "http://127.0.0.1:9", "--cases", "-1"], "'-1' is not an integer >= 0"),
        (["diff", "--base-url", "http://127.0.0.1:9", "--poll-interval", "0"], "is not a positive number"),
    ],
)
def test_bad_traffic_commands_are_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_a_full_live_diff_fetches_the_images_and_names_their_media_type_and_size(
    token_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Production's low-res image is full-size, labelled image/jpeg; the contract's is a 256 px WebP.
    with LiveServer(Config(fidelity="production", tokens=frozenset({SECRET}))) as target:
        argv = ["diff", "--base-url", target.url, "--token-env", token_env, "--fidelity", "contract", "--mode", "full"]
        assert main([*argv, "--cases", "0", "--poll-interval", "0.05", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)["differences"]
    images = {(d["part"], d["target"], d["fake"]) for d in found if d["part"] in ("image size", "media type")}
    assert ("media type", "image/jpeg", "image/webp") in images
    assert any(part == "image size" for part, _, _ in images)
