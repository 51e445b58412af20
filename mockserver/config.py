"""The fake's configuration: one frozen object, validated when built."""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass, field, fields
from typing import Any, Literal

ClockMode = Literal["system", "virtual"]
Fidelity = Literal["current", "legacy"]


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
    # "legacy" answers generation failures with HTTP 500, as the backend did before 2025-04-19.
    fidelity: Fidelity = "current"
    rate_limit: str | None = None
    clock: ClockMode = "system"
    time_scale: float = 1.0
    result_ttl: float = 3600.0
    # A sync call that runs longer than this (simulated seconds) under `gateway_timeout` answers 504.
    gateway_timeout: float = 100.0
    # Base of the output URLs; None means "the base URL the request arrived on".
    public_url: str | None = None

    def __post_init__(self) -> None:
        # Accept any iterable of tokens or faults but store immutable values, so the object stays hashable.
        object.__setattr__(self, "tokens", frozenset(self.tokens))
        object.__setattr__(self, "faults", tuple(self.faults))
        _require(_is_int(self.port) and 0 <= self.port <= 65535, "port", self.port, "an integer 0..65535")
        _require(_is_int(self.seed) and self.seed >= 0, "seed", self.seed, "a non-negative integer")
        _require(_is_host(self.host), "host", self.host, "an IP address or host name")
        _require(
            all(isinstance(t, str) and t.strip() and t == t.strip() for t in self.tokens),
            "tokens",
            sorted(map(str, self.tokens)),
            "non-empty strings without surrounding spaces",
        )
        for key in ("time_scale", "result_ttl", "gateway_timeout"):
            value = getattr(self, key)
            _require(_is_positive(value), key, value, "a positive number")
        _require(self.clock in ("system", "virtual"), "clock", self.clock, "'system' or 'virtual'")
        _require(self.fidelity in ("current", "legacy"), "fidelity", self.fidelity, "'current' or 'legacy'")
        _require(
            self.public_url is None or str(self.public_url).startswith(("http://", "https://")),
            "public_url",
            self.public_url,
            "an absolute http(s) URL",
        )
        self._check_specs()

    def _check_specs(self) -> None:
        # Imported here: latency and faults import nothing from config, and config stays importable alone.
        from mockserver.faults import FaultError, parse_fault
        from mockserver.latency import LatencyError, parse_latency
        from mockserver.ratelimit import RateLimitError, parse_rate_limit

        try:
            parse_latency(self.latency)
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

    def public_view(self) -> dict[str, Any]:
        """The config as JSON for the admin API; tokens are secrets, so only their count is shown."""
        view = {f.name: getattr(self, f.name) for f in fields(self)}
        view["tokens"] = len(self.tokens)
        view["faults"] = list(self.faults)
        return view


CONFIG_KEYS = frozenset(f.name for f in fields(Config))


def _require(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} must be {expected}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


def _is_host(host: object) -> bool:
    if not isinstance(host, str):
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return _HOST_NAME.fullmatch(host) is not None
