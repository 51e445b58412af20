"""Config is validated when built, and each error names the key, the value and what was expected."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import Config, ConfigError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"port": -1}, "port=-1 must be an integer 0..65535"),
        ({"port": 70000}, "port=70000 must be an integer 0..65535"),
        ({"seed": -5}, "seed=-5 must be a non-negative integer"),
        ({"result_ttl": 0}, "result_ttl=0 must be a positive number"),
        ({"host": ""}, "host='' must be an IP address or host name"),
        ({"host": "bad host"}, "host='bad host' must be an IP address or host name"),
        ({"tokens": frozenset({" padded "})}, "tokens must be a list of non-empty strings without surrounding"),
        ({"public_url": "ftp://cdn"}, "public_url='ftp://cdn' must be an absolute http(s) URL"),
        ({"result_ttl": 10**400}, "result_ttl="),
        ({"tokens": "SECRET"}, "tokens=str must be a list of strings"),
        ({"faults": "http_500"}, "faults='http_500' must be a list of strings"),
        ({"latency": None}, "latency=None must be a latency spec"),
        ({"latency": "fixed:120m"}, "latency='fixed:120m' names 120m, longer than the maximum of 60m"),
        ({"max_latency": 10, "gateway_timeout": 100}, "gateway_timeout=100 must be at most max_latency (10 s)"),
        ({"max_namespaces": 0}, "max_namespaces=0 must be a positive integer"),
        ({"journal_bytes": 1.5}, "journal_bytes=1.5 must be a positive integer"),
    ],
)
def test_invalid_value_is_refused_naming_the_key(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Config(**kwargs)
    assert str(raised.value).startswith(message)


def test_a_bad_token_is_never_shown_in_the_error() -> None:
    with pytest.raises(ConfigError) as raised:
        Config(tokens=frozenset({" sk-live-secret "}))
    assert "sk-live-secret" not in str(raised.value)


def test_max_latency_admits_a_longer_latency_spec() -> None:
    assert Config(latency="fixed:120m", max_latency=7200).latency == "fixed:120m"


def test_defaults_bind_loopback_and_accept_any_token() -> None:
    config = Config()
    assert (config.host, config.port, config.tokens, config.ttl) == ("127.0.0.1", 8000, frozenset(), 3600.0)
    assert config.fidelity == "contract" and config.result_ttl is None


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "0.0.0.0", "my-host.local"])
def test_ip_addresses_and_host_names_are_accepted(host: str) -> None:
    assert Config(host=host).host == host


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as raised:
        Config(port=70000, seed=-1, latency="soon", faults=("teleport", "http_429:2"), rate_limit="lots")

    assert [problem.key for problem in raised.value.problems] == [
        "port",
        "seed",
        "latency",
        "faults",
        "faults",
        "rate_limit",
    ]
    assert str(raised.value).startswith(
        "port=70000 must be an integer 0..65535; seed=-1 must be a non-negative integer; "
    )
