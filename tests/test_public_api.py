"""Each package's `__all__` is exactly its public names, so the surface cannot drift by accident (httpx)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["mockserver", "contracts", "strategies"])
def test_all_lists_exactly_the_public_names(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        getattr(module, name)  # a package that imports its names on first use must still have each of them
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not (hasattr(value, "__file__") or type(value).__name__ == "module")
    }
    assert set(module.__all__) == public
