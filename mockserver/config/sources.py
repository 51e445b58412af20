"""Build a Config from its sources, in order of precedence: flags > environment (QOLABA_MOCK_*) > TOML file.

Every bad setting is reported at once, each named by where it came from: `--latency: …`,
`QOLABA_MOCK_LATENCY='soon': …`, `mock.toml: latency=… …`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mockserver.config.settings import CONFIG_KEYS, Config, ConfigError, ConfigProblem

ENV_PREFIX = "QOLABA_MOCK_"
# The repeatable flags are singular; every other flag is the key with dashes.
_FLAGS = {"tokens": "--token", "faults": "--fault", "allowed_hosts": "--allowed-host"}
# Settings whose text is never repeated in an error (today the split leaves no bad token to report; a guard).
_SECRETS = frozenset({"tokens"})
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _split(separator: str) -> Callable[[str], list[str]]:
    return lambda text: [part.strip() for part in text.split(separator) if part.strip()]


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word not in _TRUE + _FALSE:
        raise ValueError(word)
    return word in _TRUE


# How a flag's or an environment variable's text becomes a value; fault specs may hold commas, so they split on ";".
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
    "header_timeout": float,
    "body_timeout": float,
    "max_connections": int,
    "tokens": _split(","),
    "faults": _split(";"),
    "allowed_hosts": _split(","),
    "replay_strict": _boolean,
    "replay_ignore": _split(","),
}


def flag_name(key: str) -> str:
    """The `serve` flag that sets a Config key: `rate_limit` -> `--rate-limit`, `tokens` -> `--token`."""
    return _FLAGS.get(key, "--" + key.replace("_", "-"))


def load_config(
    flags: Mapping[str, Any],
    env: Mapping[str, str],
    config_file: str | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Config:
    """Merge the sources and validate once; ConfigError lists every bad setting, each named by its source.

    `flags` holds only the flags the user gave (None means unset), as values or as the text typed;
    `defaults` sit below every source (the CLI's own defaults, e.g. `workload` latency for `serve`).
    """
    values: dict[str, Any] = dict(defaults or {})
    # What each problem's message starts with: the source of the value that won.
    source: dict[str, str] = {}
    problems: list[ConfigProblem] = []
    if config_file is not None:
        from_file = _from_file(config_file, problems)
        values.update(from_file)
        source.update(dict.fromkeys(from_file, f"{config_file}: "))
    for name, key, text in _env_settings(env, problems):
        if key in _SECRETS and not text.strip():
            # `QOLABA_MOCK_TOKENS="$KEY"` with KEY unset would otherwise accept any token, silently.
            problems.append(ConfigProblem(key, f"{name} is empty; unset it to accept any token"))
            continue
        values[key] = _from_text(key, text)
        source[key] = f"{name}: " if key in _SECRETS else f"{name}={text!r}: "
    for key, value in flags.items():
        if value is not None:
            values[key] = _from_text(key, value) if isinstance(value, str) else value
            source[key] = f"{flag_name(key)}: "
    try:
        config = Config(**values)
    except ConfigError as exc:
        problems += [ConfigProblem(p.key, source.get(p.key, "") + p.message) for p in exc.problems]
    if problems:
        raise ConfigError(problems)
    return config


def _from_text(key: str, text: str) -> Any:
    try:
        return _FROM_TEXT.get(key, str)(text)
    except ValueError:
        # Config refuses the text itself, in the same words as any other bad value of this key.
        return text


def _from_file(path: str, problems: list[ConfigProblem]) -> dict[str, Any]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        problems.append(ConfigProblem("config", f"config file {path!r} cannot be read: {exc.strerror}"))
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        problems.append(ConfigProblem("config", f"config file {path!r} is not valid TOML: {exc}"))
        return {}
    unknown = sorted(set(data) - CONFIG_KEYS)
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        known = ", ".join(sorted(CONFIG_KEYS))
        problems.append(ConfigProblem(unknown[0], f"{path}: unknown key{_s(unknown)} {names}; known keys: {known}"))
    return {key: value for key, value in data.items() if key in CONFIG_KEYS}


def _env_settings(env: Mapping[str, str], problems: list[ConfigProblem]) -> list[tuple[str, str, str]]:
    """(variable, key, text) for each QOLABA_MOCK_* variable that names a setting; the others are a problem."""
    settings, unknown = [], []
    for name, text in sorted(env.items()):
        if not name.startswith(ENV_PREFIX):
            continue
        key = name.removeprefix(ENV_PREFIX).lower()
        if key in CONFIG_KEYS:
            settings.append((name, key, text))
        else:
            unknown.append(name)
    if unknown:
        known = ", ".join(ENV_PREFIX + key.upper() for key in sorted(CONFIG_KEYS))
        verb = "are not settings" if len(unknown) > 1 else "is not a setting"
        problems.append(ConfigProblem(unknown[0], f"{', '.join(unknown)} {verb}; known: {known}"))
    return settings


def _s(items: list[str]) -> str:
    return "s" if len(items) > 1 else ""
