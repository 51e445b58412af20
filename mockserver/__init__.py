"""A fake of Qolaba's Face Consistency image API.

Usage:
    from mockserver import create_app, Config
    app = create_app(Config(seed=7))
"""

import importlib
import typing

if typing.TYPE_CHECKING:
    from mockserver.app import create_app
    from mockserver.behaviour.clock import Clock, SystemClock, VirtualClock
    from mockserver.config.settings import Config, ConfigError
    from mockserver.http.connection_faults import ConnectionFault
    from mockserver.server.live_server import LiveServer
    from mockserver.testing.handle import QolabaMock
    from mockserver.testing.inprocess import WaitsForever

__all__ = [
    "Clock",
    "Config",
    "ConfigError",
    "ConnectionFault",
    "LiveServer",
    "QolabaMock",
    "SystemClock",
    "VirtualClock",
    "WaitsForever",
    "create_app",
]

# Imported on first use: the pytest plugin lives in this package and loads in every pytest session of
# anyone who installed it, so importing the package must not pull in Starlette, Pillow or the contract.
_HOMES = {
    "Clock": "mockserver.behaviour.clock",
    "Config": "mockserver.config.settings",
    "ConfigError": "mockserver.config.settings",
    "ConnectionFault": "mockserver.http.connection_faults",
    "LiveServer": "mockserver.server.live_server",
    "QolabaMock": "mockserver.testing.handle",
    "SystemClock": "mockserver.behaviour.clock",
    "VirtualClock": "mockserver.behaviour.clock",
    "WaitsForever": "mockserver.testing.inprocess",
    "create_app": "mockserver.app",
}


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
