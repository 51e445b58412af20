"""pytest plugin: the fake in every test, steered per test. Registered through the `pytest11` entry point.

Fixtures: `qolaba_mock` (in-process fake + handle), `qolaba_client` (httpx.AsyncClient bound to it),
`qolaba_respx` (respx router sending the production base URL to it), `qolaba_server` (live server, session-wide
`make_qolaba_server`, reset per test), `qolaba_fake` (session-wide, reset per Hypothesis example). Knobs, each an
overridable fixture: `qolaba_config`, `qolaba_token`, `qolaba_base_url`, `qolaba_pass_through`. Marker
`@pytest.mark.qolaba(seed=..., latency=..., faults=..., tokens=..., pass_through=...)`; defaults from ini or
command line.

The plugin loads in every pytest session of anyone who installed qolaba-mock, so this module imports only
pytest and stdlib: Starlette, respx, Pillow and the contract are imported by the fixtures that need them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, cast

import pytest

from mockserver.config.marker import MARKER_KEYS, PLUGIN_MARKER_KEYS, config_for

if TYPE_CHECKING:
    import httpx
    import respx

    from mockserver.config.settings import Config
    from mockserver.server.live_server import LiveServer
    from mockserver.testing.handle import QolabaMock

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
    group.addoption("--qolaba-base-url", help="base URL qolaba_respx intercepts (default: production's)")
    group.addoption("--qolaba-fidelity", help=f"how the fake answers: {FIDELITY_HELP} (default: contract)")
    parser.addini("qolaba_seed", "seed of the fake", default="0")
    parser.addini("qolaba_latency", "latency spec of the fake", default="none")
    parser.addini("qolaba_faults", "fault specs, one a line", type="linelist", default=[])
    parser.addini("qolaba_tokens", "accepted bearer tokens, one a line", type="linelist", default=[])
    parser.addini("qolaba_base_url", "base URL qolaba_respx intercepts", default="")
    parser.addini("qolaba_fidelity", f"how the fake answers: {FIDELITY_HELP}", default="contract")
    parser.addini(
        "qolaba_pass_through",
        "URL prefixes qolaba_respx lets through to the real network, one a line",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    from mockserver.testing.url_prefixes import url_prefixes

    try:
        url_prefixes(config.getini("qolaba_pass_through"), name="qolaba_pass_through")
    except ValueError as exc:
        raise pytest.UsageError(f"ini {exc}") from None


@pytest.fixture
def qolaba_config(request: pytest.FixtureRequest) -> Config:
    """The fake's Config for this test: ini, then command line, then `qolaba` markers (the closest wins)."""
    _require_own_packages()
    return _config_or_fail(cast("pytest.Item", request.node))


@pytest.fixture
def qolaba_token(qolaba_config: Config) -> str:
    """The bearer token `qolaba_client` sends: the first configured token, else a placeholder any fake accepts."""
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
def qolaba_mock(qolaba_config: Config) -> Iterator[QolabaMock]:
    """The fake in-process on a virtual clock, and its handle: journal, clock/advance, faults, latency, verdicts."""
    from mockserver.app import create_app
    from mockserver.behaviour.clock import VirtualClock
    from mockserver.testing.handle import QolabaMock

    with QolabaMock(create_app(qolaba_config, clock=VirtualClock())) as mock:
        yield mock


@pytest.fixture
def qolaba_client(qolaba_mock: QolabaMock, qolaba_token: str) -> httpx.AsyncClient:
    """An httpx.AsyncClient bound to `qolaba_mock` in-process, base URL http://testserver, token set."""
    import httpx

    from contracts.spec.credentials import bearer

    # Not opened as a context manager, so the fixture stays sync and works under any async test runner;
    # an in-process transport holds no connection to close.
    return httpx.AsyncClient(
        transport=qolaba_mock.async_transport(),
        base_url="http://testserver",
        headers=bearer(qolaba_token),
    )


@pytest.fixture
def qolaba_respx(
    qolaba_mock: QolabaMock, qolaba_base_url: str, qolaba_pass_through: tuple[str, ...]
) -> Iterator[respx.MockRouter]:
    """A started respx router sending every call under `qolaba_base_url` to `qolaba_mock`, sync or async client.

    Calls under a `qolaba_pass_through` prefix go to the real network; any other call raises respx's
    `AllMockedAssertionError`, so no request leaves the test unnoticed.
    """
    with qolaba_mock.respx_router(qolaba_base_url, pass_through=qolaba_pass_through) as router:
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
def qolaba_server(make_qolaba_server: LiveServer, qolaba_config: Config) -> Iterator[QolabaMock]:
    """The session's live fake, reconfigured for this test and reset; `.url` is its base URL."""
    from mockserver.testing.handle import QolabaMock

    make_qolaba_server.app.state.backend.reconfigure(qolaba_config)
    with QolabaMock(make_qolaba_server) as mock:
        mock.reset()
        yield mock


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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # `qolaba_fake` is session-scoped, so it cannot ask pytest for the test's markers; it reads them here.
    item.config.stash[_RUNNING_TEST] = item


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


def _fail(message: str) -> NoReturn:
    # Called outside the `except` that caught the error, so pytest prints the line once, without "During
    # handling of the above exception, another exception occurred" and the line again.
    pytest.fail(message, pytrace=False)


def _require_own_packages() -> None:
    from mockserver.testing.shadowing import shadowing

    clash = shadowing(NEEDED_PACKAGES)
    if clash is not None:
        pytest.fail(clash, pytrace=False)
