"""One test body, three targets: a user's test file run with `--qolaba-target=fake`, `live` and `api`.

No network: the real API's stand-in is a live fake in the `production` profile on loopback, reached as
`--qolaba-target=api --qolaba-base-url http://127.0.0.1:PORT/api/v1/studio` (the fake serves the API under
production's path prefix too). One stand-in serves the whole module, reset before each test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from contracts.checks.single_answer import warm_up_checks
from mockserver import Config
from mockserver.behaviour.clock import VirtualClock
from mockserver.server.live_server import LiveServer
from mockserver.testing.handle import QolabaMock
from tests.conftest import ANYIO_CONFTEST
from tests.readme_blocks import code_blocks

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"
# The README's user file for the three targets: the Python block that marks a test qolaba_api.
README_TARGETS_FILE = next(
    block.code for block in code_blocks(README.read_text(encoding="utf-8")) if "@pytest.mark.qolaba_api" in block.code
)

TOKEN = "sk-live-not-a-real-token-7f3a9c"
INI = """
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider -p no:xdist
filterwarnings = error
"""
# A user's file: its own client code, a respx test calling production's URL, and two tests that steer the fake.
USER_TESTS = """
import httpx, pytest

pytestmark = pytest.mark.anyio
API = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"
BODY = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "image": "https://example.com/face.jpg", "prompt": "a portrait",
    "batch": 1, "height": 512, "width": 512, "num_inference_steps": 30, "guidance_scale": 7.5, "strength": 1,
    "celery": True,
}

@pytest.mark.qolaba_api
async def test_a_queued_submit_reads_back_as_a_task(qolaba_client, qolaba_mock):
    task = (await qolaba_client.post("/getImagetoImage", json=BODY)).json()
    reply = await qolaba_client.post("/getImage", json={"id": task["task_id"]})
    assert reply.status_code == 200 and reply.json()["status"] in ("PENDING", "SUCCESS")
    qolaba_mock.assert_called("/getImagetoImage", times=1)
    qolaba_mock.assert_no_duplicate_submits()

@pytest.mark.qolaba_api
def test_my_sync_code_behind_respx(qolaba_respx, qolaba_mock):
    reply = httpx.post(f"{API}/getImage", json={"id": "unknown"}, headers={"Authorization": "Bearer sk-x"})
    assert reply.status_code == 200
    qolaba_mock.assert_called("/getImage", times=1)

@pytest.mark.qolaba(faults=["http_503@status"])
async def test_a_503_is_retried(qolaba_client):
    assert (await qolaba_client.post("/getImage", json={"id": "x"})).status_code == 503

async def test_the_clock_moves(qolaba_client, qolaba_mock):
    await qolaba_client.post("/getImage", json={"id": "x"})
    qolaba_mock.advance(2)
"""
IMPATIENT = """
import pytest

pytestmark = pytest.mark.anyio

async def test_client_is_polite(qolaba_client, qolaba_mock):
    for _ in range(3):
        await qolaba_client.post("/getImage", json={"id": "task-1"})
    qolaba_mock.assert_polls_no_faster_than(1.0)
"""
SHOWS_ITS_TOKEN = """
def test_token_in_locals(qolaba_token):
    assert qolaba_token.startswith("sk-")
    raise AssertionError("fails, to show its locals")
"""
SPENDER = """
import pytest

pytestmark = pytest.mark.anyio
BODY = {
    "app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "image": "https://example.com/face.jpg", "prompt": "a portrait",
    "batch": 1, "height": 512, "width": 512, "num_inference_steps": 30, "guidance_scale": 7.5, "strength": 1,
}

async def test_six_jobs(qolaba_client):
    await qolaba_client.post("/getImagetoImage", json={**BODY, "batch": 0})  # the contract rejects it: free
    for n in range(6):
        print("SUBMIT", n + 1)
        await qolaba_client.post("/getImagetoImage", json={**BODY, "celery": True})

async def test_a_sync_job(qolaba_client):
    await qolaba_client.post("/getImagetoImage", json=BODY)
"""


@pytest.fixture(scope="module")
def stand_in() -> Iterator[LiveServer]:
    """The real API's stand-in: the fake as production answers, on loopback, its clock jumping over any hold."""
    # Loaded once for the module (pytester's in-process runs keep what the outer process imported): the checks'
    # view of the contract costs a run against the API a second or two, once.
    warm_up_checks()
    config = Config(fidelity="production", clock="virtual")
    with LiveServer(config, clock=VirtualClock(autojump=True)) as server:
        yield server


@pytest.fixture
def api(stand_in: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[QolabaMock]:
    monkeypatch.setenv("QOLABA_API_KEY", TOKEN)
    with QolabaMock(stand_in) as handle:
        handle.reset()
        yield handle


@pytest.fixture
def user(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(ANYIO_CONFTEST)
    pytester.makeini(INI)
    return pytester


def api_args(api: QolabaMock) -> tuple[str, ...]:
    return ("--qolaba-target=api", "--qolaba-base-url", f"{api.url}/api/v1/studio")


@pytest.mark.parametrize("target", ["fake", "live"])
def test_the_same_file_passes_under_fake_and_live(user: pytest.Pytester, target: str) -> None:
    user.makepyfile(test_user=USER_TESTS)

    result = user.runpytest(f"--qolaba-target={target}")

    result.assert_outcomes(passed=4)


def test_under_api_the_same_file_passes_and_the_tests_that_steer_skip_saying_how(
    user: pytest.Pytester, api: QolabaMock
) -> None:
    user.makepyfile(test_user=USER_TESTS)

    result = user.runpytest(*api_args(api), "-rs")

    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED ?1? test_user.py:* steers the fake: @pytest.mark.qolaba(faults=?'http_503@status'?)",
            "SKIPPED ?1? test_user.py:* steers the fake: advance(2) moves the fake's clock",
        ]
    )
    # The requests reached the stand-in: the submit, the poll, the respx call, and the poll before advance().
    assert [entry.path for entry in api.journal] == ["/api/v1/studio/getImagetoImage", *["/api/v1/studio/getImage"] * 3]


def test_ini_sets_the_target(user: pytest.Pytester) -> None:
    user.makeini(INI + "qolaba_target = live\n")
    user.makepyfile(
        test_user="def test_live(qolaba_mock):\n    assert qolaba_mock.url.startswith('http://127.0.0.1:')\n"
    )

    result = user.runpytest()

    result.assert_outcomes(passed=1)


def test_qolaba_api_marks_the_tests_a_run_can_select(user: pytest.Pytester, api: QolabaMock) -> None:
    user.makepyfile(test_user=USER_TESTS)

    result = user.runpytest(*api_args(api), "-m", "qolaba_api")

    result.assert_outcomes(passed=2, deselected=2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--qolaba-target=prod",), "ERROR: --qolaba-target='prod' is not a target: expected one of fake, live, api"),
        (
            ("--qolaba-target=api", "--qolaba-token-env=NO_SUCH_TOKEN_VAR"),
            "ERROR: --qolaba-target=api: environment variable NO_SUCH_TOKEN_VAR is not set;*",
        ),
        (("--qolaba-target=api", "--qolaba-base-url=ftp://x"), "ERROR: --qolaba-target=api: --qolaba-base-url*"),
        (("--qolaba-target=api", "--qolaba-max-spend=-1"), "ERROR: --qolaba-max-spend -1 must be 0 or more"),
        (
            ("--qolaba-target=api", "--qolaba-record=no/such/folder/run.jsonl"),
            "ERROR: --qolaba-record no/such/folder/run.jsonl: No such file or directory",
        ),
        (
            ("-p", "xdist", "-n", "2", "--qolaba-target=api"),
            "ERROR: --qolaba-target=api counts the budget in one process: run it without -n (xdist)",
        ),
    ],
)
def test_a_bad_target_or_a_missing_token_stops_the_run_in_one_line(
    user: pytest.Pytester, api: QolabaMock, args: tuple[str, ...], message: str
) -> None:
    user.makepyfile(test_user="def test_x():\n    pass\n")

    result = user.runpytest(*args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_the_budget_stops_the_sixth_valid_submit_before_it_is_sent(user: pytest.Pytester, api: QolabaMock) -> None:
    user.makepyfile(test_user=SPENDER)

    result = user.runpytest(*api_args(api), "-s", "-k", "six_jobs")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*SUBMIT 6",
            "*refused before sending: --qolaba-max-spend 5 reached (5 valid submit(s) sent this run)*",
            "spend: 5 of 5 valid submit(s), 1 refused before sending; sync submits refused",
            "  test_user.py::test_six_jobs: 5 spent, 1 refused",
        ]
    )
    # The rejected body and five valid submits reached the stand-in; the sixth never left the client.
    assert len(api.journal.calls_to("/getImagetoImage")) == 6
    assert "Traceback" not in result.stdout.str()


def test_a_sync_submit_is_refused_unless_the_run_allows_it(user: pytest.Pytester, api: QolabaMock) -> None:
    user.makepyfile(test_user=SPENDER)

    refused = user.runpytest(*api_args(api), "-k", "sync_job")
    allowed = user.runpytest(*api_args(api), "-k", "sync_job", "--qolaba-allow-sync")

    refused.assert_outcomes(failed=1)
    refused.stdout.fnmatch_lines(["*refused before sending: a sync submit (celery not true)*--qolaba-allow-sync"])
    allowed.assert_outcomes(passed=1)
    allowed.stdout.fnmatch_lines(["spend: 1 of 5 valid submit(s)"])
    assert len(api.journal.calls_to("/getImagetoImage")) == 1


def test_the_token_appears_in_no_output_report_or_cassette(user: pytest.Pytester, api: QolabaMock) -> None:
    user.makepyfile(test_user=USER_TESTS, test_impatient=IMPATIENT, test_locals=SHOWS_ITS_TOKEN)
    cassette = user.path / "nightly.jsonl"

    result = user.runpytest(
        *api_args(api), "-rA", "-vv", "-l", "--qolaba-record", str(cassette), "--junitxml=report.xml"
    )

    # Two failures show their locals (-l): the impatient client's, and one holding the token itself.
    result.assert_outcomes(passed=2, skipped=2, failed=2)
    result.stdout.fnmatch_lines(["qolaba_token = '[redacted]'"])
    written = cassette.read_text()
    assert '"auth": "bearer", "token": "t1"' in written
    for text in (result.stdout.str(), result.stderr.str(), written, (user.path / "report.xml").read_text()):
        assert TOKEN not in text


def test_the_run_ends_with_one_summary_and_a_cassette_diff_reads(user: pytest.Pytester, api: QolabaMock) -> None:
    user.makepyfile(test_user=USER_TESTS)
    cassette = user.path / "nightly.jsonl"

    result = user.runpytest(*api_args(api), "--qolaba-record", str(cassette))

    result.stdout.fnmatch_lines(
        [
            "*qolaba-mock: run against the API*",
            f"target api ({api.url}/api/v1/studio): 4 test(s): 2 passed, 2 skipped",
            "skipped for steering the fake: 2",
            "spend: 1 of 5 valid submit(s); sync submits refused",
            "  test_user.py::test_a_queued_submit_reads_back_as_a_task: 1 spent, 0 refused",
            # production answers differ from the contract: the checks say where
            "contract violations: * in 4 exchange(s)",
            "*POST /getImagetoImage -> HTTP 200: *",
            f"cassette written: {cassette} (4 exchange(s)); compare with: qolaba-mock diff --cassette {cassette}",
        ]
    )
    # The stand-in answers as production does, and diff, reading the cassette, says so.
    diff = user.run(sys.executable, "-m", "mockserver.cli", "diff", "--cassette", str(cassette))
    assert diff.ret == 0, diff.stderr.str()
    diff.stdout.fnmatch_lines([f"4 answers compared: {cassette} against the fake in the production profile"])
    diff.stderr.fnmatch_lines(["closest profile: production*"])


CLOCKS = {"fake": "the fake's clock", "live": "the fake's clock", "api": "the client's monotonic clock"}


@pytest.mark.parametrize("target", ["fake", "live", "api"])
def test_the_verdicts_fire_on_a_client_polling_too_fast_under_every_target(
    user: pytest.Pytester, api: QolabaMock, target: str
) -> None:
    user.makepyfile(test_user=IMPATIENT)
    args = api_args(api) if target == "api" else (f"--qolaba-target={target}",)

    result = user.runpytest(*args)

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: assert_polls_no_faster_than(1.0) failed",
            "*expected: at most 1.0/s per task",
            "*observed: two polls of one task * s apart *",
            f"*t: seconds since seq 1 began (started_at * on {CLOCKS[target]})",
        ]
    )


def test_under_api_steering_at_run_time_skips_the_test_at_that_point(user: pytest.Pytester, api: QolabaMock) -> None:
    user.makepyfile(
        test_user="""
import pytest

pytestmark = pytest.mark.anyio

async def test_fault_later(qolaba_client, qolaba_mock):
    await qolaba_client.post("/getImage", json={"id": "x"})
    qolaba_mock.set_fault("http_429:first:1")
    raise AssertionError("not reached")

async def test_admin_call(qolaba_client):
    await qolaba_client.post("/__admin/reset")

async def test_steering_header(qolaba_client):
    await qolaba_client.post("/getImage", json={"id": "x"}, headers={"X-Mock-Fault": "http_500"})
"""
    )

    result = user.runpytest(*api_args(api), "-rs")

    result.assert_outcomes(skipped=3)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED ?1? test_user.py:* steers the fake: set_fault('http_429:first:1') injects faults into the fake",
            "SKIPPED ?1? test_user.py:* steers the fake: admin call POST /api/v1/studio/__admin/reset steers the fake",
            "SKIPPED ?1? test_user.py:* steers the fake: header x-mock-fault steers the fake",
        ],
        consecutive=False,
    )
    assert len(api.journal) == 1  # only the first poll was sent


def test_the_plugin_imports_no_contract_tools_unless_the_target_is_api(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
import sys

def test_x(qolaba_mock):
    print("LOADED", "schemathesis" in sys.modules, "contracts.real_api" in sys.modules)
"""
    )

    result = user.runpytest_subprocess("-s", "-p", "no:schemathesis", "--qolaba-target=live")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*LOADED False False"])


def test_under_api_qolaba_server_records_httpx_calls_to_its_url_and_lets_others_through(
    user: pytest.Pytester, api: QolabaMock
) -> None:
    user.makepyfile(
        test_user=f"""
import httpx

def test_own_client(qolaba_server):
    reply = httpx.post(f"{{qolaba_server.url}}/getImage", json={{"id": "x"}}, headers={{"Authorization": "Bearer t"}})
    assert reply.status_code == 200
    assert httpx.get("{api.url}/elsewhere").status_code == 404  # not the API: not recorded, not refused
    qolaba_server.assert_called("/getImage", times=1)
    assert len(qolaba_server.journal) == 1
"""
    )

    result = user.runpytest(*api_args(api))

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["contract violations: * in 1 exchange(s)"])


def test_without_the_contract_extra_the_api_target_says_how_to_get_it_in_one_line(
    user: pytest.Pytester, api: QolabaMock
) -> None:
    # As in an install without the extra: schemathesis cannot be imported (its own plugin is not there either).
    user.makeconftest(ANYIO_CONFTEST + "\nimport sys\nsys.modules['schemathesis'] = None\n")
    user.makepyfile(test_user="def test_x():\n    pass\n")

    result = user.runpytest_subprocess(*api_args(api), "-p", "no:schemathesis")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: --qolaba-target=api judges each answer with the contract's checks, which need schemathesis:"
            " pip install 'qolaba-mock[contract]'"
        ]
    )


@pytest.mark.parametrize(
    ("target", "outcomes"), [("fake", {"passed": 2}), ("live", {"passed": 2}), ("api", {"passed": 1, "skipped": 1})]
)
def test_the_readmes_user_file_runs_all_three_ways(
    user: pytest.Pytester, api: QolabaMock, target: str, outcomes: dict[str, int]
) -> None:
    user.makepyfile(test_face=README_TARGETS_FILE)
    args = api_args(api) if target == "api" else (f"--qolaba-target={target}",)

    result = user.runpytest(*args)

    result.assert_outcomes(**outcomes)
