"""The fake's configuration: one frozen object, validated when built."""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, Literal

ClockMode = Literal["system", "virtual"]


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the key, the value and what was expected."""


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
    # How the fake answers: "contract" (the docs), "production" (the backend, 2025-09) or "production-2024"
    # (mockserver/fidelity). The old names "current" and "legacy" are read as "contract" and "production-2024".
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
    # A cassette (qolaba-mock record) whose recorded requests are answered as recorded (mockserver/replay.py);
    # strict: anything it does not hold answers 404 instead of falling back to the model.
    replay: str | None = None
    replay_strict: bool = False

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

    def __post_init__(self) -> None:
        for key in ("tokens", "faults", "allowed_hosts"):
            value = getattr(self, key)
            # A bare string would become a set of one-letter tokens.
            if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(v, str) for v in value):
                shown = type(value).__name__ if key == "tokens" else repr(value)  # never echo a secret
                raise ConfigError(f"{key}={shown} must be a list of strings")
        # Accept any iterable but store immutable values, so the object stays hashable.
        object.__setattr__(self, "tokens", frozenset(self.tokens))
        object.__setattr__(self, "faults", tuple(self.faults))
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        _require(_is_int(self.port) and 0 <= self.port <= 65535, "port", self.port, "an integer 0..65535")
        _require(_is_int(self.seed) and self.seed >= 0, "seed", self.seed, "a non-negative integer")
        _require(_is_host(self.host), "host", self.host, "an IP address or host name")
        bad_tokens = sum(1 for t in self.tokens if not t.strip() or t != t.strip())
        if bad_tokens:
            # Tokens are secrets: say how many are wrong, never what they are.
            raise ConfigError(
                f"tokens must be a list of non-empty strings without surrounding spaces; {bad_tokens} of "
                f"{len(self.tokens)} is not"
            )
        _require(all(h.strip() for h in self.allowed_hosts), "allowed_hosts", self.allowed_hosts, "host names")
        from mockserver.fidelity import ALIASES, PROFILES

        _require(
            isinstance(self.fidelity, str) and ALIASES.get(self.fidelity, self.fidelity) in PROFILES,
            "fidelity",
            self.fidelity,
            " or ".join(repr(name) for name in PROFILES),
        )
        object.__setattr__(self, "fidelity", ALIASES.get(self.fidelity, self.fidelity))
        if self.result_ttl is not None:
            _require(_is_positive(self.result_ttl), "result_ttl", self.result_ttl, "a positive number")
        for key in ("time_scale", "gateway_timeout", "max_latency"):
            value = getattr(self, key)
            _require(_is_positive(value), key, value, "a positive number")
        for key in ("max_namespaces", "max_tasks", "task_bytes", "journal_entries", "journal_bytes", "max_outputs"):
            value = getattr(self, key)
            _require(_is_int(value) and value >= 1, key, value, "a positive integer")
        _require(
            _is_int(self.journal_body_bytes) and self.journal_body_bytes >= 0,
            "journal_body_bytes",
            self.journal_body_bytes,
            "a non-negative integer",
        )
        _require(
            self.gateway_timeout <= self.max_latency,
            "gateway_timeout",
            self.gateway_timeout,
            f"at most max_latency ({self.max_latency:g} s)",
        )
        _require(self.clock in ("system", "virtual"), "clock", self.clock, "'system' or 'virtual'")
        _require(isinstance(self.latency, str), "latency", self.latency, "a latency spec, e.g. 'fixed:250ms'")
        _require(
            self.rate_limit is None or isinstance(self.rate_limit, str),
            "rate_limit",
            self.rate_limit,
            "a rate such as '60/min'",
        )
        _require(
            self.public_url is None
            or (isinstance(self.public_url, str) and self.public_url.startswith(("http://", "https://"))),
            "public_url",
            self.public_url,
            "an absolute http(s) URL",
        )
        _require(self.replay is None or isinstance(self.replay, str), "replay", self.replay, "a cassette's path")
        _require(isinstance(self.replay_strict, bool), "replay_strict", self.replay_strict, "true or false")
        self._check_specs()

    def _check_specs(self) -> None:
        # Imported here: latency and faults import nothing from config, and config stays importable alone.
        from mockserver.faults import FaultError, parse_fault
        from mockserver.latency import LatencyError, parse_latency
        from mockserver.ratelimit import RateLimitError, parse_rate_limit

        try:
            parse_latency(self.latency, limit=self.max_latency)
        except LatencyError as exc:
            raise ConfigError(f"latency: {exc}") from None
        for spec in self.faults:
            try:
                parse_fault(spec)
            except FaultError as exc:
                raise ConfigError(f"faults: {exc}") from None
        if self.rate_limit is not None:
            try:
                parse_rate_limit(self.rate_limit)
            except RateLimitError as exc:
                raise ConfigError(f"rate_limit: {exc}") from None
        if self.replay is not None:
            from contracts.cassette import CassetteError, read_cassette

            try:
                read_cassette(self.replay)
            except CassetteError as exc:
                raise ConfigError(f"replay: {exc}") from None

    @property
    def ttl(self) -> float:
        """How long a finished result can be read: `result_ttl`, else the fidelity profile's."""
        from mockserver.fidelity import profile

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


def _require(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} must be {expected}")


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
