"""Sync clients under the plugin's fixtures: nothing freezes a test, and Ctrl-C ends any run without a traceback.

A sync client blocks the test's thread, so it cannot advance the fixtures' virtual clock while the fake holds its
call: in-process the hold moves the clock itself (up to the client's read timeout); the live server's clock jumps
to the end of every hold. Each user project runs in a subprocess under a hard timeout, a safety net that turns a
regression into a failure rather than a frozen suite; nothing here measures time.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest

from tests.conftest import RECORDED_SECONDS, sync_cassette, valid_body

pytest_plugins = ["pytester"]

# Far above what these runs take, even on a busy machine: it only stops a run that froze.
SAFETY_NET = 120
USER_TESTS = """
import httpx, pytest, requests

API = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"
AUTH = {"Authorization": "Bearer sk-test"}
BODY = %(body)r


def held(entry):
    return round(entry.finished_at - entry.started_at, 3)


@pytest.mark.qolaba(cassette="prod.jsonl")  # beside this file, wherever pytest runs from
def test_a_replayed_sync_answer_in_process(qolaba_respx, qolaba_mock):
    reply = httpx.post(f"{API}/getImagetoImage", json=BODY, headers=AUTH)  # httpx's default timeout: 5 s
    assert reply.json()["time_required"]["runtime"] == %(seconds)r
    assert held(qolaba_mock.journal.last) == %(seconds)r


@pytest.mark.qolaba(latency="fixed:1s")
def test_latency_with_a_sync_client_in_process(qolaba_respx, qolaba_mock):
    reply = httpx.post(f"{API}/getImagetoImage", json=BODY, headers=AUTH, timeout=5)
    assert reply.json()["status"] == "SUCCESS" and held(qolaba_mock.journal.last) == 1


@pytest.mark.qolaba(latency="fixed:1s")
def test_latency_through_the_sync_transport(qolaba_mock):
    with httpx.Client(transport=qolaba_mock.transport(), base_url="http://fake", headers=AUTH, timeout=5) as client:
        assert client.post("/getImagetoImage", json=BODY).json()["status"] == "SUCCESS"
    assert held(qolaba_mock.journal.last) == 1


@pytest.mark.qolaba(latency="fixed:40s")
def test_latency_past_the_clients_timeout_in_process(qolaba_respx, qolaba_mock):
    with pytest.raises(httpx.ReadTimeout, match="past this client's read timeout of 5 s"):
        httpx.post(f"{API}/getImagetoImage", json=BODY, headers=AUTH, timeout=5)
    assert qolaba_mock.journal.last.status is None


@pytest.mark.qolaba(cassette="prod.jsonl")
def test_a_replayed_sync_answer_live(qolaba_server):
    reply = requests.post(f"{qolaba_server.url}/getImagetoImage", json=BODY, headers=AUTH, timeout=5)
    assert reply.json()["time_required"]["runtime"] == %(seconds)r
    assert held(qolaba_server.journal.last) == %(seconds)r


@pytest.mark.qolaba(latency="fixed:1s")
def test_latency_with_a_sync_client_live(qolaba_server):
    reply = requests.post(f"{qolaba_server.url}/getImagetoImage", json=BODY, headers=AUTH, timeout=5)
    assert reply.json()["status"] == "SUCCESS" and held(qolaba_server.journal.last) == 1
"""
BLOCKED_IN_PROCESS = """
import httpx
from mockserver import Config, create_app
from mockserver.testing.handle import QolabaMock


def test_blocked():
    # On the system clock a held call takes real time: an hour here, with no client timeout.
    with QolabaMock(create_app(Config(latency="fixed:60m"))) as mock:
        with httpx.Client(transport=mock.transport(), base_url="http://fake", timeout=None) as client:
            print("CALLING", flush=True)
            client.post("/getImagetoImage", json=%(body)r, headers={"Authorization": "Bearer t"})
"""
BLOCKED_LIVE = """
import pytest, requests


@pytest.mark.qolaba(faults=["hang"])
def test_blocked(qolaba_server):
    print("CALLING", flush=True)
    # No timeout: requests waits for an answer the hang fault never sends.
    requests.post(f"{qolaba_server.url}/getImage", json={"id": "x"}, headers={"Authorization": "Bearer t"})
"""


@pytest.fixture
def only_this_plugin(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    # Only qolaba-mock's plugin, so that each subprocess starts in well under a second.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeini("[pytest]\naddopts = -p mockserver.pytest_plugin -p no:cacheprovider\nfilterwarnings = error\n")
    return pytester


def test_sync_clients_get_replayed_and_delayed_answers_in_process_and_live(only_this_plugin: pytest.Pytester) -> None:
    tests = only_this_plugin.mkdir("tests")
    sync_cassette(tests / "prod.jsonl")
    (tests / "test_sync.py").write_text(USER_TESTS % {"body": valid_body(), "seconds": RECORDED_SECONDS})

    result = only_this_plugin.runpytest_subprocess("tests", timeout=SAFETY_NET)

    result.assert_outcomes(passed=6)


@pytest.mark.parametrize("user_test", [BLOCKED_IN_PROCESS, BLOCKED_LIVE], ids=["in_process", "live"])
def test_ctrl_c_ends_a_run_blocked_in_a_call_without_a_traceback(
    only_this_plugin: pytest.Pytester, user_test: str
) -> None:
    only_this_plugin.makepyfile(test_blocked=user_test % {"body": valid_body()})
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-s", "-p", "no:randomly", "test_blocked.py"],
        cwd=only_this_plugin.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(SAFETY_NET, run.kill)
    watchdog.start()
    try:
        assert run.stdout is not None
        seen = []
        for line in run.stdout:  # up to the call; the interrupt may land just before it blocks, or in it
            seen.append(line)
            if "CALLING" in line:
                break
        run.send_signal(signal.SIGINT)
        rest, _ = run.communicate()
    finally:
        watchdog.cancel()
        run.kill()

    output = "".join(seen) + rest
    assert run.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output
    assert "Traceback" not in output
