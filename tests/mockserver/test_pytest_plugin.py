"""The pytest plugin, as a user meets it: fixtures, marker, ini and command-line defaults, readable failures."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver import Config
from mockserver.server.live_server import LiveServer
from tests.conftest import ANYIO_CONFTEST

pytest_plugins = ["pytester"]

HOWTO = Path(__file__).resolve().parents[1] / "examples" / "test_howto_pytest_fixtures.py"
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
    pytester.makeconftest(ANYIO_CONFTEST)
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
            "*t: seconds since seq 1 began (started_at 1700000000.000 on the fake's clock)",
        ]
    )


# What a session that never uses the fake must not pay for: the web stack, images, the contract and its parsers.
HEAVY_MODULES = (
    "starlette",
    "uvicorn",
    "httpx",
    "respx",
    "anyio",
    "PIL",
    "yaml",
    "jsonschema_rs",
    "orjson",
    "contracts",
)
LOADED_PROBE = f"""
import sys

def loaded():
    return " ".join(sorted(name for name in {HEAVY_MODULES!r} if name in sys.modules)) or "nothing"

def test_plain():
    print("LOADED", loaded())

def test_fake(qolaba_mock):
    print("LOADED", loaded())
"""


def test_importing_the_plugin_loads_nothing_heavy(tmp_path: Path) -> None:
    probe = f"import sys, mockserver.pytest_plugin; print(sorted(set({HEAVY_MODULES!r}) & set(sys.modules)))"

    result = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, check=True)

    assert result.stdout.strip() == "[]"


def test_a_session_loads_the_fakes_dependencies_only_once_a_test_uses_the_fake(
    user: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only this plugin, so that no other installed plugin loads these modules first.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    user.makepyfile(test_user=LOADED_PROBE)

    plain = user.runpytest_subprocess("-p", "mockserver.pytest_plugin", "-s", "-k", "test_plain")
    fake = user.runpytest_subprocess("-p", "mockserver.pytest_plugin", "-s", "-k", "test_fake")

    plain.assert_outcomes(passed=1)
    plain.stdout.fnmatch_lines(["*LOADED nothing"])
    fake.assert_outcomes(passed=1)
    fake.stdout.fnmatch_lines(["*LOADED PIL *contracts httpx jsonschema_rs *respx starlette yaml"])


OWN_CONTRACTS_TEST = """
import contracts

def test_own_contracts():
    assert contracts.STATUS == "theirs"
"""
FAKE_TEST = """
def test_fake(qolaba_mock):
    pass
"""


@pytest.fixture
def project_with_own_contracts(user: pytest.Pytester) -> pytest.Pytester:
    # `python -m pytest` (runpytest_subprocess) puts the project first on sys.path, as it does for a user.
    user.mkpydir("contracts").joinpath("__init__.py").write_text('STATUS = "theirs"\n')
    return user


def test_a_project_with_its_own_contracts_package_runs_its_tests(project_with_own_contracts: pytest.Pytester) -> None:
    project_with_own_contracts.makepyfile(test_user=OWN_CONTRACTS_TEST)

    result = project_with_own_contracts.runpytest_subprocess()

    result.assert_outcomes(passed=1)


@pytest.mark.parametrize("imported_first", [True, False], ids=["imported-by-the-project", "not-yet-imported"])
def test_using_the_fake_beside_a_projects_own_contracts_names_the_clash_in_one_line(
    project_with_own_contracts: pytest.Pytester, imported_first: bool
) -> None:
    project_with_own_contracts.makepyfile(test_user=(OWN_CONTRACTS_TEST if imported_first else "") + FAKE_TEST)
    own = project_with_own_contracts.path / "contracts"

    result = project_with_own_contracts.runpytest_subprocess()

    result.assert_outcomes(passed=int(imported_first), errors=1)
    result.stdout.fnmatch_lines(
        [
            f"qolaba-mock: the package 'contracts' imported from {own} "
            "is not qolaba-mock's (which is in *); rename yours, or move it inside your own package*"
        ]
    )
    result.stdout.no_fnmatch_line("*ImportError*")
    result.stdout.no_fnmatch_line("*Traceback*")


@pytest.fixture
def real_host() -> Iterator[LiveServer]:
    """A second fake on loopback, standing in for a real service a test may reach."""
    with LiveServer(Config()) as server:
        yield server


PASS_THROUGH_TEST = """
import httpx, pytest
from respx.models import AllMockedAssertionError

API = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"
REAL = "{real}"
AUTH = {{"Authorization": "Bearer t"}}

@pytest.mark.qolaba(pass_through=[REAL])
async def test_marker(qolaba_respx, qolaba_mock):
    real = httpx.post(REAL + "/getImage", json={{"id": "marker-sync"}}, headers=AUTH)
    async with httpx.AsyncClient(headers=AUTH) as client:
        real_async = await client.post(REAL + "/getImage", json={{"id": "marker-async"}})
        fake = await client.post(API + "/getImage", json={{"id": "fake"}})
    assert real.status_code == real_async.status_code == fake.status_code == 200
    qolaba_mock.assert_called("/getImage", times=1)

def test_ini(qolaba_respx):
    assert httpx.post(REAL + "/getImage", json={{"id": "ini"}}, headers=AUTH).status_code == 200

def test_no_pass_through(qolaba_respx):
    with pytest.raises(AllMockedAssertionError, match="not mocked"):
        httpx.post(REAL + "/getImage", json={{"id": "refused"}}, headers=AUTH)
"""


def test_qolaba_respx_passes_listed_prefixes_through_to_the_network_and_refuses_other_hosts(
    user: pytest.Pytester, real_host: LiveServer
) -> None:
    marked = "import pytest\npytestmark = pytest.mark.anyio\n" + PASS_THROUGH_TEST.format(real=real_host.url)
    user.makepyfile(test_user=marked)

    from_marker = user.runpytest("-k", "marker or no_pass_through")
    user.makeini(INI + f"qolaba_pass_through =\n    {real_host.url}\n")
    from_ini = user.runpytest("-k", "ini")

    from_marker.assert_outcomes(passed=2)
    from_ini.assert_outcomes(passed=1)
    reached = [entry.request_body["id"] for entry in real_host.app.state.backend.default.journal]
    assert reached == ["marker-sync", "marker-async", "ini"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            '"http://127.0.0.1:8000"',
            "qolaba marker: pass_through='http://127.0.0.1:8000' must be a list of http:// or https:// URL prefixes, "
            "e.g. ['http://127.0.0.1:8000']",
        ),
        (
            '["ftp://files.example"]',
            "qolaba marker: pass_through: 'ftp://files.example' is not an http:// or https:// URL prefix with a host, "
            "e.g. ['http://127.0.0.1:8000']",
        ),
        (
            "[8000]",
            "qolaba marker: pass_through: 8000 is not an http:// or https:// URL prefix with a host, "
            "e.g. ['http://127.0.0.1:8000']",
        ),
        (
            '["http://"]',
            "qolaba marker: pass_through: 'http://' is not an http:// or https:// URL prefix with a host, "
            "e.g. ['http://127.0.0.1:8000']",
        ),
    ],
)
def test_a_bad_pass_through_marker_fails_its_test_in_one_line(user: pytest.Pytester, value: str, message: str) -> None:
    user.makepyfile(
        test_user=f"import pytest\n\n@pytest.mark.qolaba(pass_through={value})\ndef test_x(qolaba_respx):\n    pass\n"
    )

    result = user.runpytest()

    result.assert_outcomes(errors=1)
    assert message in result.stdout.lines
    result.stdout.no_fnmatch_line("*Traceback*")


def test_a_bad_pass_through_ini_stops_the_run_in_one_line(user: pytest.Pytester) -> None:
    user.makeini(INI + "qolaba_pass_through =\n    ftp://files.example\n")
    user.makepyfile(test_user="def test_x():\n    pass\n")

    result = user.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.stderr.lines if line.strip()] == [
        "ERROR: ini qolaba_pass_through: 'ftp://files.example' is not an http:// or https:// URL prefix with a host, "
        "e.g. ['http://127.0.0.1:8000']"
    ]


def test_a_bad_marker_value_fails_its_test_in_one_line_without_a_traceback(user: pytest.Pytester) -> None:
    user.makepyfile(test_user="import pytest\n\n@pytest.mark.qolaba(seed=-1)\ndef test_x(qolaba_mock):\n    pass\n")

    result = user.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["seed=-1 *must be a non-negative integer*"])
    result.stdout.no_fnmatch_line("*pytest_plugin.py*")
    result.stdout.no_fnmatch_line("*ConfigError*")


def test_the_readme_lists_every_marker_key() -> None:
    from pathlib import Path

    from mockserver.pytest_plugin import MARKER_KEYS, PLUGIN_MARKER_KEYS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    line = next(line for line in readme.splitlines() if line.startswith("- **Marker:**"))
    assert [key for key in (*MARKER_KEYS, *PLUGIN_MARKER_KEYS) if f"{key}=" not in line] == []


def test_a_bad_marker_value_is_printed_once(user: pytest.Pytester) -> None:
    user.makepyfile(
        test_user="import pytest\n\n@pytest.mark.qolaba(latency='soon')\ndef test_x(qolaba_mock):\n    pass\n"
    )

    result = user.runpytest()

    result.assert_outcomes(errors=1)
    message = "latency='soon' is not a latency spec; expected fixed:<d>, uniform:<d>..<d>, "
    assert sum(line.startswith(message) for line in result.stdout.lines) == 1
    result.stdout.no_fnmatch_line("*During handling of the above exception*")


CASSETTE_TEST = """
import pytest

@pytest.mark.qolaba(cassette={cassette!r})
def test_replayed(qolaba_mock):
    assert qolaba_mock.backend.replay is not None
    print("REPLAYING", qolaba_mock.backend.replay.source)
"""


def test_a_relative_cassette_is_read_from_the_test_files_folder(user: pytest.Pytester) -> None:
    folder = user.mkdir("tests")
    (folder / "prod.jsonl").write_text('{"qolaba_mock_cassette": 1, "upstream": "https://api.example.com"}\n')
    (folder / "test_user.py").write_text(CASSETTE_TEST.format(cassette="prod.jsonl"))
    (user.path / "prod.jsonl").write_text("not read: the one beside the test is\n")

    result = user.runpytest("-s", "tests")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*REPLAYING {folder / 'prod.jsonl'}"])


def test_an_absolute_cassette_is_read_where_it_points(user: pytest.Pytester, tmp_path: Path) -> None:
    cassette = tmp_path / "elsewhere.jsonl"
    cassette.write_text('{"qolaba_mock_cassette": 1, "upstream": "https://api.example.com"}\n')
    user.makepyfile(test_user=CASSETTE_TEST.format(cassette=str(cassette)))

    result = user.runpytest("-s")

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*REPLAYING {cassette}"])


def test_a_missing_cassette_is_one_line_naming_where_it_was_looked_for_and_where_it_is(
    user: pytest.Pytester,
) -> None:
    folder = user.mkdir("tests")
    (folder / "test_user.py").write_text(CASSETTE_TEST.format(cassette="prod.jsonl"))
    (user.path / "prod.jsonl").write_text('{"qolaba_mock_cassette": 1, "upstream": "https://api.example.com"}\n')

    result = user.runpytest("tests")

    result.assert_outcomes(errors=1)
    assert (
        f"qolaba marker: cassette='prod.jsonl': {folder / 'prod.jsonl'} does not exist; a relative path is read "
        "from the test file's folder (the working directory has it: write cassette='../prod.jsonl', or an "
        "absolute path)"
    ) in result.stdout.lines
    result.stdout.no_fnmatch_line("*During handling*")
