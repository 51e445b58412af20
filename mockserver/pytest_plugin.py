"""pytest plugin for qolaba-mock (fixtures arrive with the pytest-plugin issue); registered via `pytest11`."""

from __future__ import annotations
