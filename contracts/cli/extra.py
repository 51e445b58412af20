"""The contract tools' optional dependencies: `pip install "qolaba-mock[contract]"`.

The fake, the pytest fixtures and the strategies need none of them; `contract`, `probe`, `diff` and `record`
need schemathesis. Kept out of the default install because schemathesis registers a pytest plugin of its
own, which would load (about 1 s) in every pytest session of everyone who installed the fake.
"""

from __future__ import annotations

import importlib

# The commands of `qolaba-mock` that need the extra.
CONTRACT_COMMANDS = frozenset({"contract", "probe", "diff", "record"})
INSTALL_HINT = 'pip install "qolaba-mock[contract]"'
_NEEDED = ("schemathesis",)


class MissingExtra(Exception):
    """A contract tool was asked for without the `contract` extra installed."""


def require_contract_tools(command: str) -> None:
    """Raise `MissingExtra`, naming the command and the install line, unless the contract extra is installed."""
    for module in _NEEDED:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as missing:
            # Only the package itself being absent means the extra is missing; a module missing inside an
            # installed schemathesis is a broken install, and its own traceback says more.
            if missing.name != module:
                raise
            raise MissingExtra(
                f"{command} needs the contract tools, which are not installed ({module} is missing): {INSTALL_HINT}"
            ) from None
