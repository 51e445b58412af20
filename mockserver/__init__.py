"""A fake of Qolaba's Face Consistency image API.

Usage:
    from mockserver import create_app, Config
    app = create_app(Config(seed=7))
"""

from mockserver.app import create_app
from mockserver.clock import Clock, SystemClock, VirtualClock
from mockserver.config import Config, ConfigError
from mockserver.testing import QolabaMock

__all__ = ["Clock", "Config", "ConfigError", "QolabaMock", "SystemClock", "VirtualClock", "create_app"]
