"""Build a Config from its sources, in order of precedence: flags > environment (QOLABA_MOCK_*) > TOML file."""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mockserver.config import CONFIG_KEYS, Config, ConfigError

ENV_PREFIX = "QOLABA_MOCK_"


def _split(separator: str) -> Callable[[str], list[str]]:
    return lambda text: [part.strip() for part in text.split(separator) if part.strip()]


# How each environment variable's text becomes a value; fault specs may hold commas, so they split on ";".
_FROM_TEXT: dict[str, Callable[[str], Any]] = {
    "port": int,
    "seed": int,
    "time_scale": float,
    "result_ttl": float,
    "gateway_timeout": float,
    "max_latency": float,
    "max_namespaces": int,
    "max_tasks": int,
    "task_bytes": int,
    "journal_entries": int,
    "journal_bytes": int,
    "journal_body_bytes": int,
    "max_outputs": int,
    "tokens": _split(","),
    "faults": _split(";"),
    "allowed_hosts": _split(","),
    "replay_strict": lambda text: text.strip().lower() in ("1", "true", "yes", "on"),
}


def load_config(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_file: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Config:
    """Merge the sources and validate once. `flags` holds only the flags the user gave (None means unset);
    `defaults` sit below every source (the CLI's own defaults, e.g. `workload` latency for `serve`)."""
    values: dict[str, Any] = dict(defaults or {})
    if config_file is not None:
        values.update(_from_file(config_file))
    values.update(_from_env(env))
    values.update({key: value for key, value in flags.items() if value is not None})
    return Config(**values)


def _from_file(path: str) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"config file {path!r} cannot be read: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path!r} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"config file {path!r}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(CONFIG_KEYS))}"
        )
    return data


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, text in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        key = name.removeprefix(ENV_PREFIX).lower()
        if key not in CONFIG_KEYS:
            raise ConfigError(
                f"{name} is not a setting; known: {', '.join(ENV_PREFIX + k.upper() for k in sorted(CONFIG_KEYS))}"
            )
        try:
            values[key] = _FROM_TEXT.get(key, str)(text)
        except ValueError:
            raise ConfigError(f"{name}={text!r} is not a valid {key}") from None
    return values
