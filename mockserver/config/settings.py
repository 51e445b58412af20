"""The fake's configuration: one frozen object, validated when built."""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from contracts.cassette.jsonl import Cassette
    from mockserver.behaviour.faults import FaultRule

ClockMode = Literal["system", "virtual"]


@dataclass(frozen=True)
class ConfigProblem:
    """One bad setting: the key it belongs to, and a message that names it (`seed=-1 must be …`)."""

    key: str
    message: str


class ConfigError(ValueError):
    """One or more settings are wrong; each problem names the key, the value and what was expected.

    Usage:
        try:
            Config(seed=-1, port=70000)
        except ConfigError as exc:
            [problem.key for problem in exc.problems]   # ["port", "seed"]
    """

    def __init__(self, problems: str | Sequence[ConfigProblem]) -> None:
        self.problems = (ConfigProblem("", problems),) if isinstance(problems, str) else tuple(problems)
        super().__init__("; ".join(problem.message for problem in self.problems))


@dataclass(frozen=True)
class Config:
    """Every knob of the fake. The CLI, the pytest plugin and `create_app` all build one of these.

    Usage:
        config = Config(seed=7, tokens=frozenset({"sk-test"}), latency="fixed:250ms", faults=("http_429:0.1",))
    """

    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    # Empty means any non-empty bearer token is accepted.
    tokens: frozenset[str] = field(default_factory=frozenset)
    # `none` keeps library use instant; `qolaba-mock serve` defaults to `workload`.
    latency: str = "none"
    faults: tuple[str, ...] = ()
    # How the fake answers: the name of a fidelity profile (mockserver/behaviour/fidelity/profiles.py registers
    # them: "contract", the docs; "production", the backend...). An old alias ("legacy") is read as its profile.
    fidelity: str = "contract"
    rate_limit: str | None = None
    clock: ClockMode = "system"
    time_scale: float = 1.0
    # Seconds a finished result can be read; None: the fidelity profile's (3,600 s, 14,400 s in production).
    result_ttl: float | None = None
    # A sync call that runs longer than this (simulated seconds) under `gateway_timeout` answers 504.
    gateway_timeout: float = 100.0
    # Base of the output URLs; None means "the base URL the request arrived on".
    public_url: str | None = None
    # Host names a request on a loopback socket may carry besides loopback names (DNS-rebinding guard).
    allowed_hosts: tuple[str, ...] = ()
    # A recording (ours, HAR or VCR) whose recorded requests are answered as recorded (mockserver/sim/replay.py);
    # strict: anything it does not hold answers 404 instead of falling back to the model.
    replay: str | None = None
    replay_strict: bool = False
    # Request body fields a replay does not match on (names or JSON pointers, contracts/cassette/ignored_fields.py).
    replay_ignore: tuple[str, ...] = ()

    # Bounds on what clients can make the fake hold (README, "Limits"). Per namespace unless said otherwise.
    # The longest any one request is held, in simulated seconds: latency specs, headers, gateway_timeout.
    max_latency: float = 3600.0
    # Namespaces on the server; the least recently used one beyond this is forgotten.
    max_namespaces: int = 32
    # Queued tasks, and the bytes of their stored answers; the oldest go first (and then read PENDING).
    max_tasks: int = 10_000
    task_bytes: int = 16 << 20  # 16 MiB
    # Journal entries, their total bytes, and the bytes kept of each request or response body.
    journal_entries: int = 10_000
    journal_bytes: int = 8 << 20  # 8 MiB, not a contract bound
    journal_body_bytes: int = 16 << 10  # 16 KiB
    # Output images servable at once, server-wide (each is a recipe of ~0.3 KB; bytes are rendered on demand).
    max_outputs: int = 65_536
    # Under a socket server (serve, LiveServer): real seconds a request's headers may take to arrive (from the
    # connection opening or its previous answer), and its body after them; open connections at once.
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1000

    def __post_init__(self) -> None:
        # Every bad field is reported at once, so a user fixes a config file in one round.
        check = _Checks()
        if isinstance(self.replay_ignore, str):  # "seed,prompt", as the flag and the variable spell it
            object.__setattr__(self, "replay_ignore", tuple(self.replay_ignore.split(",")))
        for key in ("tokens", "faults", "allowed_hosts", "replay_ignore"):
            value = getattr(self, key)
            # A bare string would become a set of one-letter tokens.
            if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
                # Accept any iterable but store immutable values, so the object stays hashable.
                object.__setattr__(self, key, frozenset(value) if key == "tokens" else tuple(value))
            else:
                shown = type(value).__name__ if key == "tokens" else repr(value)  # never echo a secret
                check.fail(key, f"{key}={shown} must be a list of strings")
        check.require(_is_int(self.port) and 0 <= self.port <= 65535, "port", self.port, "an integer 0..65535")
        check.require(_is_int(self.seed) and self.seed >= 0, "seed", self.seed, "a non-negative integer")
        check.require(_is_host(self.host), "host", self.host, "an IP address or host name")
        if check.ok("tokens"):
            bad_tokens = sum(1 for t in self.tokens if not t.strip() or t != t.strip())
            if bad_tokens:
                # Tokens are secrets: say how many are wrong, never what they are.
                check.fail(
                    "tokens",
                    f"tokens must be a list of non-empty strings without surrounding spaces; {bad_tokens} of "
                    f"{len(self.tokens)} is not",
                )
        if check.ok("allowed_hosts"):
            hosts = self.allowed_hosts
            check.require(all(h.strip() for h in hosts), "allowed_hosts", hosts, "host names")
        self._check_fidelity(check)
        if self.result_ttl is not None:
            check.require(_is_positive(self.result_ttl), "result_ttl", self.result_ttl, "a positive number")
        for key in ("time_scale", "gateway_timeout", "max_latency", "header_timeout", "body_timeout"):
            check.require(_is_positive(getattr(self, key)), key, getattr(self, key), "a positive number")
        for key in (
            "max_namespaces",
            "max_tasks",
            "task_bytes",
            "journal_entries",
            "journal_bytes",
            "max_outputs",
            "max_connections",
        ):
            value = getattr(self, key)
            check.require(_is_int(value) and value >= 1, key, value, "a positive integer")
        body_bytes = self.journal_body_bytes
        check.require(
            _is_int(body_bytes) and body_bytes >= 0, "journal_body_bytes", body_bytes, "a non-negative integer"
        )
        if check.ok("gateway_timeout", "max_latency"):
            expected = f"at most max_latency ({self.max_latency:g} s)"
            check.require(self.gateway_timeout <= self.max_latency, "gateway_timeout", self.gateway_timeout, expected)
        check.require(self.clock in ("system", "virtual"), "clock", self.clock, "'system' or 'virtual'")
        public_url = self.public_url
        check.require(
            public_url is None or (isinstance(public_url, str) and public_url.startswith(("http://", "https://"))),
            "public_url",
            public_url,
            "an absolute http(s) URL",
        )
        check.require(self.replay is None or isinstance(self.replay, str), "replay", self.replay, "a cassette's path")
        check.require(isinstance(self.replay_strict, bool), "replay_strict", self.replay_strict, "true or false")
        self._check_specs(check)
        if check.problems:
            raise ConfigError(check.problems)

    def _check_fidelity(self, check: _Checks) -> None:
        from mockserver.behaviour.fidelity.profiles import ALIASES, profile_names

        names = profile_names()
        name = ALIASES.get(self.fidelity, self.fidelity) if isinstance(self.fidelity, str) else None
        if check.require(name in names, "fidelity", self.fidelity, " or ".join(repr(n) for n in names)):
            object.__setattr__(self, "fidelity", name)

    def _check_specs(self, check: _Checks) -> None:
        # Imported here: latency and faults import nothing from config, and config stays importable alone.
        from contracts.cassette.ignored_fields import IgnoredFieldError, parse_ignored
        from mockserver.behaviour.faults import FaultError, parse_fault
        from mockserver.behaviour.latency import LatencyError, parse_latency
        from mockserver.behaviour.ratelimit import RateLimitError, parse_rate_limit

        if check.require(isinstance(self.latency, str), "latency", self.latency, "a latency spec, e.g. 'fixed:250ms'"):
            try:
                parse_latency(self.latency, limit=self.max_latency if check.ok("max_latency") else None)
            except LatencyError as exc:
                check.fail("latency", str(exc))
        rules = []
        for spec in self.faults if check.ok("faults") else ():
            try:
                rules.append(parse_fault(spec))
            except FaultError as exc:
                check.fail("faults", str(exc))  # it names the spec: fault='…'...
        # Parsed once here; namespaces build their plans from these rules, never from the text again.
        object.__setattr__(self, "_fault_rules", tuple(rules))
        if self.rate_limit is not None:
            try:
                parse_rate_limit(self.rate_limit)
            except RateLimitError as exc:
                check.fail("rate_limit", f"rate_limit={exc}")
        cassette = None
        for item in self.replay_ignore if check.ok("replay_ignore") else ():
            try:
                parse_ignored([item])
            except IgnoredFieldError as exc:
                check.fail("replay_ignore", f"replay_ignore: {exc}")
        if isinstance(self.replay, str):
            from contracts.cassette.jsonl import CassetteError
            from mockserver.config.cassette_cache import read_once

            try:
                cassette = read_once(self.replay, self.max_latency if check.ok("max_latency") else None)
            except CassetteError as exc:
                check.fail("replay", str(exc))  # it names the file, the line and the value
        # Read and checked once here, as the faults are parsed: the backend replays this one.
        object.__setattr__(self, "_cassette", cassette)

    @property
    def fault_rules(self) -> tuple[FaultRule, ...]:
        """`faults`, parsed."""
        rules: tuple[FaultRule, ...] = self.__dict__["_fault_rules"]
        return rules

    @property
    def cassette(self) -> Cassette | None:
        """`replay`, read and checked (None without one)."""
        cassette: Cassette | None = self.__dict__["_cassette"]
        return cassette

    @property
    def ttl(self) -> float:
        """How long a finished result can be read: `result_ttl`, else the fidelity profile's."""
        from mockserver.behaviour.fidelity.profiles import profile

        return self.result_ttl if self.result_ttl is not None else profile(self.fidelity).result_ttl

    def public_view(self) -> dict[str, Any]:
        """The config as JSON for the admin API; tokens are secrets, so only their count is shown."""
        view = {f.name: getattr(self, f.name) for f in fields(self)}
        view["tokens"] = len(self.tokens)
        view["faults"] = list(self.faults)
        view["allowed_hosts"] = list(self.allowed_hosts)
        view["result_ttl"] = self.ttl
        return view


CONFIG_KEYS = frozenset(f.name for f in fields(Config))


class _Checks:
    """Collects the problems of one Config, in field order."""

    def __init__(self) -> None:
        self.problems: list[ConfigProblem] = []

    def fail(self, key: str, message: str) -> None:
        self.problems.append(ConfigProblem(key, message))

    def require(self, ok: bool, key: str, value: object, expected: str) -> bool:
        if not ok:
            self.fail(key, f"{key}={value!r} must be {expected}")
        return ok

    def ok(self, *keys: str) -> bool:
        return not any(problem.key in keys for problem in self.problems)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_positive(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value) and value > 0
    except OverflowError:  # an int too large for a float
        return False


_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


def _is_host(host: object) -> bool:
    if not isinstance(host, str):
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return _HOST_NAME.fullmatch(host) is not None
