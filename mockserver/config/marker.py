"""The fake's Config for one test: ini, then command line, then the test's `qolaba` markers (the closest wins).

Used by the pytest plugin's fixtures; imports only pytest and the standard library at module level, since the
plugin loads in every pytest session of anyone who installed qolaba-mock.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mockserver.config.settings import Config

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
    "replay_ignore",
)
# Marker keys the plugin reads itself, not the fake's Config.
PLUGIN_MARKER_KEYS = ("pass_through",)


def config_for(node: pytest.Item, **overrides: Any) -> Config:
    """The Config `node` asks for, with `overrides` (marker keys) on top; ConfigError names a bad key or value."""
    from mockserver.config.settings import Config

    settings = _defaults(node.config)
    for marker in reversed(list(node.iter_markers("qolaba"))):
        settings.update(_marker_settings(marker.args, marker.kwargs))
    settings.update(_marker_settings((), overrides, where="qolaba_fake()"))
    for key in ("faults", "tokens"):
        if isinstance(settings.get(key), str):
            settings[key] = (settings[key],)
    if "cassette" in settings:
        # `qolaba(cassette="prod.jsonl")`: the fake answers what the cassette recorded, as recorded.
        settings["replay"] = cassette_path(settings.pop("cassette"), Path(str(node.path)).parent)
    return Config(clock="virtual", **settings)


def cassette_path(given: Any, folder: Path) -> str:
    """Where `cassette=` points: an absolute path as given, a relative one from the test file's `folder` (as
    pytest-recording reads its cassettes). ConfigError when that file does not exist, naming it."""
    from mockserver.config.settings import ConfigError

    if not isinstance(given, str | os.PathLike):
        raise ConfigError(f"qolaba marker: cassette={given!r} must be a path, e.g. cassette='prod.jsonl'")
    path = Path(given)
    resolved = path if path.is_absolute() else folder / path
    if resolved.exists():
        return str(resolved)
    message = f"qolaba marker: cassette={str(given)!r}: {resolved} does not exist"
    if not path.is_absolute():
        message += "; a relative path is read from the test file's folder"
        if path.exists():
            beside = os.path.relpath(path.resolve(), folder)
            message += f" (the working directory has it: write cassette={beside!r}, or an absolute path)"
    raise ConfigError(message)


def _marker_settings(args: tuple[Any, ...], kwargs: Mapping[str, Any], where: str = "qolaba marker") -> dict[str, Any]:
    from mockserver.config.settings import ConfigError

    unknown = sorted(set(kwargs) - {*MARKER_KEYS, *PLUGIN_MARKER_KEYS})
    if args or unknown:
        given = unknown[0] if unknown else repr(args)
        keys = ", ".join((*MARKER_KEYS, *PLUGIN_MARKER_KEYS))
        raise ConfigError(f"{where}: {given} is not an option; expected keywords {keys}")
    return {key: value for key, value in kwargs.items() if key in MARKER_KEYS}


def _defaults(config: pytest.Config) -> dict[str, Any]:
    from mockserver.config.settings import ConfigError

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
