"""The contract tools' optional dependencies: `pip install "qolaba-mock[contract]"`.

The fake, the pytest fixtures and the strategies need none of them; `contract`, `probe`, `diff` and `record`
need schemathesis. Kept out of the default install because schemathesis registers a pytest plugin of its
own, which would load (about 1 s) in every pytest session of everyone who installed the fake.
"""

from __future__ import annotations

import importlib

from contracts.client.extra import CONTRACT_PACKAGES, INSTALL_HINT, is_missing_extra

# The commands of `qolaba-mock` that need the extra.
CONTRACT_COMMANDS = frozenset({"contract", "probe", "diff", "record"})


class MissingExtra(Exception):
    """A contract tool was asked for without the `contract` extra installed."""


def require_contract_tools(command: str) -> None:
    """Raise `MissingExtra`, naming the command and the install line, unless the contract extra is installed."""
    for module in CONTRACT_PACKAGES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as missing:
            if not is_missing_extra(missing):
                raise
            raise MissingExtra(
                f"{command} needs the contract tools, which are not installed ({module} is missing): {INSTALL_HINT}"
            ) from None
