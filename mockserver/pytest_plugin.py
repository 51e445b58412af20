"""pytest plugin: the fake in every test, steered per test. Registered through the `pytest11` entry point.

Fixtures: `qolaba_mock` (in-process fake + handle), `qolaba_client` (httpx.AsyncClient bound to it),
`qolaba_respx` (respx router sending the production base URL to it), `qolaba_server` (live server, session-wide,
reset per test). Knobs, each an overridable fixture: `qolaba_config`, `qolaba_token`, `qolaba_base_url`,
`qolaba_pass_through`. Marker `@pytest.mark.qolaba(seed=..., latency=..., faults=..., tokens=...,
pass_through=...)`; defaults from ini or command line.

The plugin loads in every pytest session of anyone who installed qolaba-mock, so this module imports only
pytest and stdlib: Starlette, respx, Pillow and the contract are imported by the fixtures that need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    import respx

    from mockserver.config import Config
    from mockserver.server import LiveServer
    from mockserver.testing import QolabaMock

# The Config fields a test may set; host, port and the clock belong to the fixtures.
MARKER_KEYS = (
    "seed",
    "latency",
    "faults",
    "tokens",
    "fidelity",
    "rate_limit",
    "result_ttl",
    "gateway_timeout",
    "public_url",
    "max_latency",
    "max_tasks",
    "task_bytes",
    "journal_entries",
    "journal_bytes",
    "journal_body_bytes",
    "cassette",
    "replay_strict",
)
# Marker keys the plugin reads itself, not the fake's Config.
PLUGIN_MARKER_KEYS = ("pass_through",)
MARKER_HELP = (
    f"qolaba({', '.join(f'{key}=...' for key in (*MARKER_KEYS, *PLUGIN_MARKER_KEYS))}): "
    "configure the qolaba-mock fake for this test"
)
DEFAULT_TOKEN = "sk-qolaba-mock"
# The packages beside `mockserver` that the fixtures import; a project's own package of the same name shadows them.
NEEDED_PACKAGES = ("contracts",)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qolaba_mock", "qolaba-mock: the fake Qolaba API in tests")
    group.addoption("--qolaba-seed", type=int, help="seed of the fake (default: ini qolaba_seed, else 0)")
    group.addoption("--qolaba-latency", help="latency spec of the fake, e.g. fixed:250ms (default: none)")
    group.addoption("--qolaba-fault", action="append", help="fault spec, e.g. http_429:0.1 (repeatable)")
    group.addoption("--qolaba-token", action="append", help="accepted bearer token (repeatable; default: any)")
    group.addoption("--qolaba-base-url", help="base URL qolaba_respx intercepts (default: production's)")
    group.addoption("--qolaba-fidelity", help="how the fake answers: contract (default), production or production-2024")
    parser.addini("qolaba_seed", "seed of the fake", default="0")
    parser.addini("qolaba_latency", "latency spec of the fake", default="none")
    parser.addini("qolaba_faults", "fault specs, one a line", type="linelist", default=[])
    parser.addini("qolaba_tokens", "accepted bearer tokens, one a line", type="linelist", default=[])
    parser.addini("qolaba_base_url", "base URL qolaba_respx intercepts", default="")
    parser.addini("qolaba_fidelity", "contract, production or production-2024", default="contract")
    parser.addini(
        "qolaba_pass_through",
        "URL prefixes qolaba_respx lets through to the real network, one a line",
        type="linelist",
        default=[],
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER_HELP)
    from mockserver._url_prefixes import url_prefixes

    try:
        url_prefixes(config.getini("qolaba_pass_through"), name="qolaba_pass_through")
    except ValueError as exc:
        raise pytest.UsageError(f"ini {exc}") from None


@pytest.fixture
def qolaba_config(request: pytest.FixtureRequest) -> Config:
    """The fake's Config for this test: ini, then command line, then `qolaba` markers (the closest wins)."""
    _require_own_packages()
    from mockserver.config import Config, ConfigError

    try:
        settings = _defaults(request.config)
        for marker in reversed(list(request.node.iter_markers("qolaba"))):
            unknown = sorted(set(marker.kwargs) - {*MARKER_KEYS, *PLUGIN_MARKER_KEYS})
            if marker.args or unknown:
                given = unknown[0] if unknown else repr(marker.args)
                keys = ", ".join((*MARKER_KEYS, *PLUGIN_MARKER_KEYS))
                raise ConfigError(f"qolaba marker: {given} is not an option; expected keywords {keys}")
            settings.update((key, value) for key, value in marker.kwargs.items() if key in MARKER_KEYS)
        for key in ("faults", "tokens"):
            if isinstance(settings.get(key), str):
                settings[key] = (settings[key],)
        if "cassette" in settings:
            # `qolaba(cassette="prod.jsonl")`: the fake answers what the cassette recorded, as recorded.
            settings["replay"] = str(settings.pop("cassette"))
        return Config(clock="virtual", **settings)
    except ConfigError as exc:
        # The message names the key and value; a traceback through this fixture would only bury it.
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture
def qolaba_token(qolaba_config: Config) -> str:
    """The bearer token `qolaba_client` sends: the first configured token, else a placeholder any fake accepts."""
    return min(qolaba_config.tokens) if qolaba_config.tokens else DEFAULT_TOKEN


@pytest.fixture
def qolaba_base_url(request: pytest.FixtureRequest) -> str:
    """The base URL `qolaba_respx` sends to the fake: --qolaba-base-url, ini qolaba_base_url, else production's."""
    _require_own_packages()
    from contracts import production_base_url

    configured = request.config.getoption("qolaba_base_url") or request.config.getini("qolaba_base_url")
    return str(configured or production_base_url())


@pytest.fixture
def qolaba_pass_through(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """URL prefixes `qolaba_respx` lets through to the real network: the closest `qolaba(pass_through=[...])`
    marker, else ini `qolaba_pass_through`, else none (any call outside the fake then raises)."""
    from mockserver._url_prefixes import url_prefixes

    marker = next((m for m in request.node.iter_markers("qolaba") if "pass_through" in m.kwargs), None)
    if marker is None:
        return url_prefixes(request.config.getini("qolaba_pass_through"), name="qolaba_pass_through")
    try:
        return url_prefixes(marker.kwargs["pass_through"])
    except ValueError as exc:
        pytest.fail(f"qolaba marker: {exc}", pytrace=False)


@pytest.fixture
def qolaba_mock(qolaba_config: Config) -> Iterator[QolabaMock]:
    """The fake in-process on a virtual clock, and its handle: journal, clock/advance, faults, latency, verdicts."""
    from mockserver.app import create_app
    from mockserver.clock import VirtualClock
    from mockserver.testing import QolabaMock

    with QolabaMock(create_app(qolaba_config, clock=VirtualClock())) as mock:
        yield mock


@pytest.fixture
def qolaba_client(qolaba_mock: QolabaMock, qolaba_token: str) -> httpx.AsyncClient:
    """An httpx.AsyncClient bound to `qolaba_mock` in-process, base URL http://testserver, token set."""
    import httpx

    # Not opened as a context manager, so the fixture stays sync and works under any async test runner;
    # an in-process transport holds no connection to close.
    return httpx.AsyncClient(
        transport=qolaba_mock.async_transport(),
        base_url="http://testserver",
        headers={"Authorization": f"Bearer {qolaba_token}"},
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
    """One live fake for the session, on a free loopback port and a virtual clock; `qolaba_server` resets it."""
    _require_own_packages()
    from mockserver.clock import VirtualClock
    from mockserver.config import Config
    from mockserver.server import LiveServer

    with LiveServer(Config(clock="virtual"), clock=VirtualClock()) as server:
        yield server


@pytest.fixture
def qolaba_server(make_qolaba_server: LiveServer, qolaba_config: Config) -> Iterator[QolabaMock]:
    """The session's live fake, reconfigured for this test and reset; `.url` is its base URL."""
    from mockserver.testing import QolabaMock

    make_qolaba_server.app.state.backend.reconfigure(qolaba_config)
    with QolabaMock(make_qolaba_server) as mock:
        mock.reset()
        yield mock


def _require_own_packages() -> None:
    from mockserver._shadowing import shadowing

    clash = shadowing(NEEDED_PACKAGES)
    if clash is not None:
        pytest.fail(clash, pytrace=False)


def _defaults(config: pytest.Config) -> dict[str, Any]:
    from mockserver.config import ConfigError

    seed = config.getoption("qolaba_seed")
    if seed is None:
        text = config.getini("qolaba_seed")
        if not str(text).strip().isdigit():
            raise ConfigError(f"qolaba_seed={text!r} must be a non-negative integer")
        seed = int(text)
    return {
        "seed": seed,
        "latency": config.getoption("qolaba_latency") or config.getini("qolaba_latency"),
        "faults": tuple(config.getoption("qolaba_fault") or config.getini("qolaba_faults")),
        "tokens": frozenset(config.getoption("qolaba_token") or config.getini("qolaba_tokens")),
        "fidelity": config.getoption("qolaba_fidelity") or config.getini("qolaba_fidelity"),
    }
