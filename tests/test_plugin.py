"""The pytest plugin, as a user meets it: fixtures, marker, ini and command-line defaults, readable failures."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

HOWTO = Path(__file__).parent / "examples" / "test_howto_pytest_fixtures.py"
CONFTEST = """
import pytest

@pytest.fixture
def anyio_backend():
    return "asyncio"
"""
INI = """
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider
filterwarnings = error
"""
USER_TEST = """
import httpx, pytest

pytestmark = pytest.mark.anyio

async def test_status(qolaba_client, qolaba_mock):
    reply = await qolaba_client.post("/getImage", json={"id": "x"})
    config, space = qolaba_mock.backend.config, qolaba_mock.namespace
    print("STATUS", reply.status_code, "SEED", config.seed, "FAULTS", space.fault_specs)
"""


@pytest.fixture
def user(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    return pytester


def test_a_users_file_using_every_fixture_passes(user: pytest.Pytester) -> None:
    user.makepyfile(test_user=HOWTO.read_text())

    result = user.runpytest()

    result.assert_outcomes(passed=6)


def test_the_plugin_is_off_under_no_qolaba_mock(user: pytest.Pytester) -> None:
    user.makepyfile(test_user=USER_TEST)

    result = user.runpytest("-p", "no:qolaba_mock")

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*fixture 'qolaba_client' not found*"])


def test_the_marker_is_registered_with_its_help(user: pytest.Pytester) -> None:
    result = user.runpytest("--markers")

    result.stdout.fnmatch_lines(["@pytest.mark.qolaba(seed=..., latency=..., faults=..., tokens=..., *"])


def test_ini_sets_defaults_the_command_line_overrides_and_the_marker_overrides_both(user: pytest.Pytester) -> None:
    user.makeini(INI + "qolaba_seed = 7\nqolaba_faults =\n    http_503@status\n")
    user.makepyfile(
        test_user=USER_TEST
        + """
@pytest.mark.qolaba(seed=9, faults=[])
async def test_marked(qolaba_client, qolaba_mock):
    await test_status(qolaba_client, qolaba_mock)
"""
    )

    from_ini = user.runpytest("-s", "-k", "test_status")
    from_cli = user.runpytest("-s", "-k", "test_status", "--qolaba-seed", "8", "--qolaba-fault", "http_429@status")
    from_marker = user.runpytest("-s", "-k", "test_marked", "--qolaba-seed", "8")

    from_ini.stdout.fnmatch_lines(["*STATUS 503 SEED 7 FAULTS ('http_503@status',)*"])
    from_cli.stdout.fnmatch_lines(["*STATUS 429 SEED 8 FAULTS ('http_429@status',)*"])
    from_marker.stdout.fnmatch_lines(["*STATUS 200 SEED 9 FAULTS ()*"])


def test_tokens_restrict_the_fake_and_the_client_sends_the_first(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
import pytest

@pytest.mark.qolaba(tokens=["sk-b", "sk-a"])
def test_token(qolaba_token, qolaba_respx):
    import httpx
    url = "https://qolaba-server-b2b.up.railway.app/api/v1/studio/getImage"
    assert qolaba_token == "sk-a"
    assert httpx.post(url, json={"id": "x"}, headers={"Authorization": "Bearer sk-b"}).status_code == 200
    assert httpx.post(url, json={"id": "x"}, headers={"Authorization": "Bearer sk-c"}).status_code == 401
"""
    )

    user.runpytest().assert_outcomes(passed=1)


def test_fidelity_comes_from_ini_the_command_line_or_the_marker(user: pytest.Pytester) -> None:
    user.makeini(INI + "qolaba_fidelity = production\n")
    user.makepyfile(
        test_user="""
import pytest

async def status_without_credentials(client):
    return (await client.post("/getImage", json={"id": "x"}, headers={"Authorization": ""})).status_code

@pytest.mark.anyio
async def test_from_ini(qolaba_client):
    print("CODE", await status_without_credentials(qolaba_client))

@pytest.mark.anyio
@pytest.mark.qolaba(fidelity="contract")
async def test_from_marker(qolaba_client):
    print("CODE", await status_without_credentials(qolaba_client))
"""
    )

    from_ini = user.runpytest("-s", "-k", "from_ini")
    from_cli = user.runpytest("-s", "-k", "from_ini", "--qolaba-fidelity", "contract")
    from_marker = user.runpytest("-s", "-k", "from_marker")

    from_ini.stdout.fnmatch_lines(["*CODE 403*"])  # production: FastAPI's HTTPBearer
    from_cli.stdout.fnmatch_lines(["*CODE 401*"])
    from_marker.stdout.fnmatch_lines(["*CODE 401*"])


def test_a_misspelt_marker_option_is_named(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
import pytest

@pytest.mark.qolaba(sead=1)
def test_typo(qolaba_mock):
    pass
"""
    )

    result = user.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*qolaba marker: sead is not an option; expected keywords seed, latency*"])


def test_the_base_url_option_moves_what_respx_intercepts(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
import httpx

def test_custom_base(qolaba_respx, qolaba_mock):
    url = "http://api.internal.test/qolaba/getImage"
    reply = httpx.post(url, json={"id": "x"}, headers={"Authorization": "Bearer t"})
    assert reply.json()["status"] == "PENDING"
    qolaba_mock.assert_called("/qolaba/getImage", times=1)
"""
    )

    user.runpytest("--qolaba-base-url", "http://api.internal.test/qolaba").assert_outcomes(passed=1)


def test_the_live_server_is_shared_by_the_session_and_reset_for_each_test(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
import pytest, requests

URLS = set()

@pytest.mark.parametrize("round", [1, 2])
@pytest.mark.qolaba(faults=["http_500@status"])
def test_round(qolaba_server, round):
    URLS.add(qolaba_server.url)
    assert len(qolaba_server.journal) == 0
    qolaba_server.set_latency("fixed:1s")
    reply = requests.post(qolaba_server.url + "/getImage", json={"id": "x"}, headers={"Authorization": "Bearer t"})
    assert reply.status_code == 500 and len(URLS) == 1

def test_after(qolaba_server):
    assert qolaba_server.namespace.fault_specs == () and qolaba_server.namespace.latency_spec == "none"
"""
    )

    user.runpytest().assert_outcomes(passed=3)


def test_a_broken_client_fails_with_the_offending_journal_lines(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="""
import pytest

pytestmark = pytest.mark.anyio

async def impatient_client(client, task_id, advance):
    for _ in range(3):
        await client.post("/getImage", json={"id": task_id})
        advance(0.1)

async def test_client_is_polite(qolaba_client, qolaba_mock):
    await impatient_client(qolaba_client, "task-1", qolaba_mock.advance)
    qolaba_mock.assert_polls_no_faster_than(1.0)
"""
    )

    result = user.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: assert_polls_no_faster_than(1.0) failed",
            "*expected: at most 1.0/s per task",
            "*observed: two polls of one task 0.100 s apart (10.0/s)",
            "*seq     t (s)  method path*status  fault",
            "*1     0.000  POST   /getImage*200",
            "*2     0.100  POST   /getImage*200",
            "*3     0.200  POST   /getImage*200",
        ]
    )
