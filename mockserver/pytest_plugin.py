"""pytest plugin: the fake in every test, steered per test. Registered through the `pytest11` entry point.

Fixtures: `qolaba_mock` (in-process fake + handle), `qolaba_client` (httpx.AsyncClient bound to it),
`qolaba_respx` (respx router sending the production base URL to it), `qolaba_server` (live server, session-wide
`make_qolaba_server`, reset per test), `qolaba_fake` (session-wide, reset per Hypothesis example). Knobs, each an
overridable fixture: `qolaba_config`, `qolaba_token`, `qolaba_base_url`, `qolaba_pass_through`. Marker
`@pytest.mark.qolaba(seed=..., latency=..., faults=..., tokens=..., pass_through=...)`; defaults from ini or
command line.

`--qolaba-target=fake|live|api` sends the same tests to the fake in-process (the default), to the live fake, or to
the real API (`contracts/real_api/`: budget, contract checks, cassette, summary); under `api`, tests that steer the
fake are skipped naming their steering, and `qolaba_mock` is a `RemoteApi` with a client-side journal.

The plugin loads in every pytest session of anyone who installed qolaba-mock, so this module imports only
pytest and stdlib: Starlette, respx, Pillow and the contract are imported by the fixtures that need them.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, cast

import pytest

from mockserver.config.marker import MARKER_KEYS, PLUGIN_MARKER_KEYS, config_for
from mockserver.config.run_target import API_MARKER, TARGETS, TargetError, steering_of, target_of

if TYPE_CHECKING:
    import httpx
    import respx

    from contracts.real_api.api_run import ApiRun
    from mockserver.config.settings import Config
    from mockserver.server.live_server import LiveServer
    from mockserver.testing.handle import QolabaMock
    from mockserver.testing.remote import RemoteApi

MARKER_HELP = (
    f"qolaba({', '.join(f'{key}=...' for key in (*MARKER_KEYS, *PLUGIN_MARKER_KEYS))}): "
    "configure the qolaba-mock fake for this test"
)
DEFAULT_TOKEN = "sk-qolaba-mock"
# Not the profiles' names: listing them would import the registry (and pydantic) in every session. A bad name is
# refused naming every profile, as `qolaba-mock serve --fidelity` is.
FIDELITY_HELP = "a fidelity profile's name, as for `qolaba-mock serve --fidelity`"
# The packages beside `mockserver` that the fixtures import; a project's own package of the same name shadows them.
NEEDED_PACKAGES = ("contracts",)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qolaba_mock", "qolaba-mock: the fake Qolaba API in tests")
    group.addoption("--qolaba-seed", type=int, help="seed of the fake (default: ini qolaba_seed, else 0)")
    group.addoption("--qolaba-latency", help="latency spec of the fake, e.g. fixed:250ms (default: none)")
    group.addoption("--qolaba-fault", action="append", help="fault spec, e.g. http_429:0.1 (repeatable)")
    group.addoption("--qolaba-token", action="append", help="accepted bearer token (repeatable; default: any)")
    group.addoption(
        "--qolaba-target",
        help=f"where the tests' requests go: {' | '.join(TARGETS)} (default: ini qolaba_target, else fake)",
    )
    group.addoption(
        "--qolaba-base-url",
        help="base URL qolaba_respx intercepts, and the API's under --qolaba-target=api (default: production's)",
    )
    group.addoption(
        "--qolaba-token-env",
        default="QOLABA_API_KEY",
        help="environment variable holding the API token under --qolaba-target=api (default: QOLABA_API_KEY)",
    )
    group.addoption(
        "--qolaba-max-spend",
        type=int,
        default=5,
        help="under --qolaba-target=api: valid submits (GPU jobs) the whole run may send (default: 5)",
    )
    group.addoption(
        "--qolaba-allow-sync",
        action="store_true",
        help="under --qolaba-target=api: let sync submits (celery not true) through, within the budget",
    )
    group.addoption(
        "--qolaba-record",
        metavar="FILE",
        help="under --qolaba-target=api: write every exchange to a cassette (tokens redacted) for `diff --cassette`",
    )
    group.addoption("--qolaba-fidelity", help=f"how the fake answers: {FIDELITY_HELP} (default: contract)")
    parser.addini("qolaba_seed", "seed of the fake", default="0")
    parser.addini("qolaba_latency", "latency spec of the fake", default="none")
    parser.addini("qolaba_faults", "fault specs, one a line", type="linelist", default=[])
    parser.addini("qolaba_tokens", "accepted bearer tokens, one a line", type="linelist", default=[])
    parser.addini("qolaba_base_url", "base URL qolaba_respx intercepts", default="")
    parser.addini("qolaba_target", f"where the tests' requests go: {' | '.join(TARGETS)}", default="fake")
    parser.addini("qolaba_fidelity", f"how the fake answers: {FIDELITY_HELP}", default="contract")
    parser.addini(
        "qolaba_pass_through",
        "URL prefixes qolaba_respx lets through to the real network, one a line",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    config.addinivalue_line(
        "markers", f"{API_MARKER}: a test meant to run against the real API too (select with -m {API_MARKER})"
    )
    from mockserver.testing.url_prefixes import url_prefixes

    try:
        url_prefixes(config.getini("qolaba_pass_through"), name="qolaba_pass_through")
        target = target_of(config)
    except ValueError as exc:
        raise pytest.UsageError(f"ini {exc}" if not isinstance(exc, TargetError) else str(exc)) from None
    config.stash[_TARGET] = target
    if target == "api":
        config.stash[_API_RUN] = _start_api_run(config)


def _start_api_run(config: pytest.Config) -> ApiRun:
    from contracts.real_api.opening import RunOptionError, open_api_run
    from contracts.spec.schema import production_base_url

    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") != "no":
        raise pytest.UsageError("--qolaba-target=api counts the budget in one process: run it without -n (xdist)")
    try:
        return open_api_run(
            config.getoption("qolaba_base_url") or config.getini("qolaba_base_url") or production_base_url(),
            config.getoption("qolaba_token_env"),
            max_spend=config.getoption("qolaba_max_spend"),
            allow_sync=config.getoption("qolaba_allow_sync"),
            record=config.getoption("qolaba_record"),
        )
    except RunOptionError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Under api, a test that steers the fake cannot run: skipped before it starts, saying which steering it uses.
    if config.stash.get(_TARGET, "fake") != "api":
        return
    for item in items:
        reason = steering_of(item)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def qolaba_config(request: pytest.FixtureRequest) -> Config:
    """The fake's Config for this test: ini, then command line, then `qolaba` markers (the closest wins)."""
    _require_own_packages()
    return _config_or_fail(cast("pytest.Item", request.node))


@pytest.fixture
def qolaba_token(qolaba_config: Config, request: pytest.FixtureRequest) -> str:
    """The bearer token `qolaba_client` sends: the first configured token, else a placeholder any fake accepts;
    under --qolaba-target=api, the one in the environment variable --qolaba-token-env names."""
    if _target(request) == "api":
        from contracts.spec.credentials import Secret

        return Secret(_api_run(request).token)
    return min(qolaba_config.tokens) if qolaba_config.tokens else DEFAULT_TOKEN


@pytest.fixture
def qolaba_base_url(request: pytest.FixtureRequest) -> str:
    """The base URL `qolaba_respx` sends to the fake: --qolaba-base-url, ini qolaba_base_url, else production's."""
    _require_own_packages()
    from contracts.spec.schema import production_base_url

    configured = request.config.getoption("qolaba_base_url") or request.config.getini("qolaba_base_url")
    return str(configured or production_base_url())


@pytest.fixture
def qolaba_pass_through(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """URL prefixes `qolaba_respx` lets through to the real network: the closest `qolaba(pass_through=[...])`
    marker, else ini `qolaba_pass_through`, else none (any call outside the fake then raises)."""
    from mockserver.testing.url_prefixes import url_prefixes

    marker = next((m for m in request.node.iter_markers("qolaba") if "pass_through" in m.kwargs), None)
    if marker is None:
        return url_prefixes(request.config.getini("qolaba_pass_through"), name="qolaba_pass_through")
    try:
        return url_prefixes(marker.kwargs["pass_through"])
    except ValueError as exc:
        message = f"qolaba marker: {exc}"
    _fail(message)


@pytest.fixture
def qolaba_mock(qolaba_config: Config, request: pytest.FixtureRequest) -> Iterator[QolabaMock]:
    """The fake in-process on a virtual clock, and its handle: journal, clock/advance, faults, latency, verdicts.

    Under --qolaba-target=live, the live fake (`qolaba_server`); under api, a `RemoteApi` on the real API: the
    same journal (recorded by the client) and verdicts, and a skip of the test wherever it steers.
    """
    target = _target(request)
    if target != "fake":
        yield request.getfixturevalue("qolaba_server" if target == "live" else "_qolaba_remote")
        return
    from mockserver.app import create_app
    from mockserver.behaviour.clock import VirtualClock
    from mockserver.testing.handle import QolabaMock

    with QolabaMock(create_app(qolaba_config, clock=VirtualClock())) as mock:
        yield mock


@pytest.fixture
def qolaba_client(qolaba_mock: QolabaMock, qolaba_token: str, request: pytest.FixtureRequest) -> httpx.AsyncClient:
    """An httpx.AsyncClient bound to `qolaba_mock` in-process, base URL http://testserver, token set.

    Under --qolaba-target=live its base URL is the live fake's, under api the API's (each exchange recorded).
    """
    import httpx

    from contracts.spec.credentials import bearer
    from mockserver.testing.forwarding import network_transports

    # Not opened as a context manager, so the fixture stays sync and works under any async test runner;
    # an in-process transport holds no connection to close, and a network one keeps none open.
    target = _target(request)
    transport = network_transports()[1] if target == "live" else qolaba_mock.async_transport()
    return httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver" if target == "fake" else str(qolaba_mock.url),
        headers=bearer(qolaba_token),
    )


@pytest.fixture
def qolaba_respx(
    qolaba_mock: QolabaMock, qolaba_base_url: str, qolaba_pass_through: tuple[str, ...], request: pytest.FixtureRequest
) -> Iterator[respx.MockRouter]:
    """A started respx router sending every call under `qolaba_base_url` to `qolaba_mock`, sync or async client.

    Calls under a `qolaba_pass_through` prefix go to the real network; any other call raises respx's
    `AllMockedAssertionError`, so no request leaves the test unnoticed. Under --qolaba-target=live the calls
    go over loopback to the live fake; under api on to the API, each recorded.
    """
    if _target(request) == "live":
        from mockserver.testing.forwarding import forwarding_router, network_transports

        sync, async_ = network_transports()
        router = forwarding_router(
            qolaba_base_url,
            str(qolaba_mock.url),
            transport=sync,
            async_transport=async_,
            pass_through=qolaba_pass_through,
        )
    else:
        router = qolaba_mock.respx_router(qolaba_base_url, pass_through=qolaba_pass_through)
    with router:
        yield router


@pytest.fixture(scope="session")
def make_qolaba_server() -> Iterator[LiveServer]:
    """One live fake for the session, on a free loopback port and a virtual clock; `qolaba_server` resets it.

    Its clock jumps to the end of any request it holds: the fake cannot see whether a client is free to call
    `advance()` while it waits, and a sync client (requests) never is.
    """
    _require_own_packages()
    from mockserver.behaviour.clock import VirtualClock
    from mockserver.config.settings import Config
    from mockserver.server.live_server import LiveServer

    with LiveServer(Config(clock="virtual"), clock=VirtualClock(autojump=True)) as server:
        yield server


@pytest.fixture
def qolaba_server(qolaba_config: Config, request: pytest.FixtureRequest) -> Iterator[QolabaMock]:
    """The session's live fake, reconfigured for this test and reset; `.url` is its base URL.

    Under --qolaba-target=api, the `RemoteApi` on the API: `.url` is the API's base URL, and httpx calls under it
    go through a respx router that records them (the budget and the checks see them); calls elsewhere go on.
    """
    if _target(request) == "api":
        remote = request.getfixturevalue("_qolaba_remote")
        # Calls to any other host go on untouched, as they would beside a live fake.
        with remote.respx_router(remote.url, others="pass"):
            yield remote
        return
    from mockserver.testing.handle import QolabaMock

    server: LiveServer = request.getfixturevalue("make_qolaba_server")
    server.app.state.backend.reconfigure(qolaba_config)
    with QolabaMock(server) as mock:
        mock.reset()
        yield mock


@pytest.fixture
def _qolaba_remote(request: pytest.FixtureRequest) -> RemoteApi:
    # The test's handle on the real API: its journal charged to the run's budget; steering skips the test.
    from mockserver.testing.remote import RemoteApi

    run = _api_run(request)
    recorded = run.journal_for(request.node.nodeid, on_refuse=_fail)
    return RemoteApi(run.base_url, recorded=recorded, on_steer=_skip)


@pytest.fixture(scope="session")
def qolaba_fake(pytestconfig: pytest.Config) -> Iterator[QolabaFake]:
    """The fake in-process for `@given` tests: one for the session (so Hypothesis accepts it), handed out reset
    and configured for the running test by `with qolaba_fake() as mock:` in each example."""
    _require_own_packages()
    from mockserver.app import create_app
    from mockserver.behaviour.clock import VirtualClock
    from mockserver.config.settings import Config
    from mockserver.testing.handle import QolabaMock

    with QolabaMock(create_app(Config(clock="virtual"), clock=VirtualClock())) as mock:
        yield QolabaFake(mock, pytestconfig)


class QolabaFake:
    """What the `qolaba_fake` fixture gives: call it in each example for the fake, reset to a fresh state.

    Hypothesis refuses function-scoped fixtures in a `@given` test, since they are not set up again for each
    example. This one is session-scoped, and each `with qolaba_fake(**settings) as mock:` reconfigures and
    resets the one fake: journal, tasks, outputs, faults and seeded sequences start afresh, configured as
    `qolaba_mock` would be for the running test (ini, command line, its `qolaba` markers), then `settings`
    (the marker's keywords). The virtual clock carries on from example to example.

    Usage:
        @given(invalid=strategies.invalid_face_requests())
        def test_rejected(qolaba_fake, invalid):
            with qolaba_fake() as mock, httpx.Client(transport=mock.transport(), base_url="http://fake") as client:
                assert client.post("/getImagetoImage", json=invalid.body).status_code == 422
    """

    def __init__(self, mock: QolabaMock, config: pytest.Config) -> None:
        self._mock = mock
        self._config = config

    @contextmanager
    def __call__(self, **settings: Any) -> Iterator[QolabaMock]:
        test = self._config.stash.get(_RUNNING_TEST, None)
        if test is None:
            raise RuntimeError("qolaba_fake() gives the fake for one example: call it inside a test")
        self._mock.backend.reconfigure(_config_or_fail(test, **settings))
        self._mock.reset()
        yield self._mock


_RUNNING_TEST = pytest.StashKey["pytest.Item"]()
_TARGET = pytest.StashKey[str]()
_API_RUN = pytest.StashKey["ApiRun"]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # `qolaba_fake` is session-scoped, so it cannot ask pytest for the test's markers; it reads them here.
    item.config.stash[_RUNNING_TEST] = item


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    # A skip for steering under api is raised deep in the plugin or the client's transport: the report names the
    # test's own line instead, as a skip marker's does.
    if report.skipped and isinstance(report.longrepr, tuple) and _STEERS in str(report.longrepr[2]):
        path, line, _ = item.location
        report.longrepr = (path, (line or 0) + 1, report.longrepr[2])
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    run = config.stash.get(_API_RUN, None)
    if run is None:
        return
    from contracts.real_api.summary import summary_lines

    stats = terminalreporter.stats
    outcomes = {
        kind: len([r for r in stats.get(kind, ()) if getattr(r, "when", "call") in ("call", "setup")])
        for kind in ("passed", "failed", "skipped", "error")
    }
    steering = [
        (report.nodeid, str(report.longrepr[2]).removeprefix("Skipped: "))
        for report in stats.get("skipped", ())
        if isinstance(report.longrepr, tuple) and _STEERS in str(report.longrepr[2])
    ]
    terminalreporter.write_sep("=", "qolaba-mock: run against the API")
    for line in summary_lines(run, "api", outcomes, steering):
        terminalreporter.write_line(line)


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(_API_RUN, None)
    if run is not None:
        run.close()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    # Hypothesis's own plugin imports all of Hypothesis in its terminal summary, used or not
    # (`from hypothesis.internal.observability import _WROTE_TO` in _hypothesis_pytestplugin.py): about 0.4 s
    # added to every pytest session of anyone who installed qolaba-mock. Where no test imported Hypothesis and
    # no report carries its statistics or failing examples (an xdist worker's), that summary has nothing to
    # say, so its plugin is let go before the summary runs.
    plugin = session.config.pluginmanager.get_plugin("hypothesispytest")
    if plugin is None or "hypothesis" in sys.modules:
        return
    keys = {getattr(plugin, "STATS_KEY", None), getattr(plugin, "FAILING_EXAMPLES_KEY", None)}
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if None in keys or reporter is None:
        return
    for reports in reporter.stats.values():
        if any(keys & getattr(report, "__dict__", {}).keys() for report in reports):
            return
    session.config.pluginmanager.unregister(plugin)


def _config_or_fail(test: pytest.Item, **overrides: Any) -> Config:
    from mockserver.config.settings import ConfigError

    try:
        return config_for(test, **overrides)
    except ConfigError as exc:
        # The message names the key and value; a traceback through this fixture would only bury it.
        message = str(exc)
    _fail(message)


def _target(request: pytest.FixtureRequest) -> str:
    return request.config.stash.get(_TARGET, "fake")


def _api_run(request: pytest.FixtureRequest) -> ApiRun:
    return request.config.stash[_API_RUN]


_STEERS = "steers the fake"


def _skip(reason: str) -> NoReturn:
    pytest.skip(f"{_STEERS}: {reason}")


def _fail(message: str) -> NoReturn:
    # Called outside the `except` that caught the error, so pytest prints the line once, without "During
    # handling of the above exception, another exception occurred" and the line again.
    pytest.fail(message, pytrace=False)


def _require_own_packages() -> None:
    from mockserver.testing.shadowing import shadowing

    clash = shadowing(NEEDED_PACKAGES)
    if clash is not None:
        pytest.fail(clash, pytrace=False)
