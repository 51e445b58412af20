"""The fake's configuration: one frozen object, validated when built."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the key, the value and what was expected."""


@dataclass(frozen=True)
class Config:
    """Every knob of the fake. The CLI, the pytest plugin and `create_app` all build one of these.

    Usage:
        config = Config(seed=7, tokens=frozenset({"sk-test"}))
    """

    host: str = "127.0.0.1"
    port: int = 8000
    seed: int = 0
    # Empty means any non-empty bearer token is accepted.
    tokens: frozenset[str] = field(default_factory=frozenset)
    result_ttl: float = 3600.0
    # Base of the output URLs; None means "the base URL the request arrived on".
    public_url: str | None = None

    def __post_init__(self) -> None:
        _require(isinstance(self.port, int) and 0 <= self.port <= 65535, "port", self.port, "an integer 0..65535")
        _require(isinstance(self.seed, int) and self.seed >= 0, "seed", self.seed, "a non-negative integer")
        _require(
            isinstance(self.result_ttl, int | float) and self.result_ttl > 0,
            "result_ttl",
            self.result_ttl,
            "a positive number of seconds",
        )
        _require(_is_host(self.host), "host", self.host, "an IP address or host name")
        _require(
            all(isinstance(t, str) and t.strip() and t == t.strip() for t in self.tokens),
            "tokens",
            sorted(self.tokens),
            "non-empty strings without surrounding spaces",
        )
        _require(
            self.public_url is None or self.public_url.startswith(("http://", "https://")),
            "public_url",
            self.public_url,
            "an absolute http(s) URL",
        )
        # Accept any iterable of tokens but store a frozenset, so the object stays hashable and immutable.
        object.__setattr__(self, "tokens", frozenset(self.tokens))


def _require(ok: bool, key: str, value: object, expected: str) -> None:
    if not ok:
        raise ConfigError(f"{key}={value!r} must be {expected}")


_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")


def _is_host(host: object) -> bool:
    if not isinstance(host, str):
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return _HOST_NAME.fullmatch(host) is not None
