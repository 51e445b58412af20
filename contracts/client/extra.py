"""What the contract tools need beyond a plain install: the `contract` extra, `pip install "qolaba-mock[contract]"`.

The fake, the pytest fixtures and the strategies need none of it. The contract checks, the contract run, the
probe, diff and the recording proxy need schemathesis (and requests, the response type its checks read).
They stay out of the default install because schemathesis registers a pytest plugin of its own, which would
load in every pytest session of everyone who installed the fake (README "Benchmarks"). So every module that
imports them does so under a guard that turns a missing extra into one line naming the install.

Usage:
    try:
        import schemathesis
    except ModuleNotFoundError as missing:
        raise contract_extra_missing(missing, __name__) from None
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = 'pip install "qolaba-mock[contract]"'
# The distributions the extra brings that our modules import (pyproject.toml, [project.optional-dependencies]).
CONTRACT_PACKAGES = ("schemathesis", "requests")


def is_missing_extra(missing: ModuleNotFoundError) -> bool:
    """Whether the import failed because a package of the extra is absent. A module missing inside an installed
    package is a broken install, whose own error says more."""
    package = (missing.name or "").partition(".")[0]
    return package in CONTRACT_PACKAGES and importlib.util.find_spec(package) is None


def contract_extra_missing(missing: ModuleNotFoundError, needed_by: str) -> ModuleNotFoundError:
    """The error to raise when `needed_by` is imported without the extra: one line with the install command; any
    other import failure as it was."""
    if not is_missing_extra(missing):
        return missing
    package = (missing.name or "").partition(".")[0]
    return ModuleNotFoundError(
        f"{needed_by} needs the contract tools, which are not installed ({package} is missing): {INSTALL_HINT}",
        name=package,
    )
