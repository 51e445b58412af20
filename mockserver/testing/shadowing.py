"""Whether a project's own top-level package shadows one that qolaba-mock ships beside `mockserver`.

qolaba-mock installs `contracts` and `strategies` as top-level packages. A project with its own package of
the same name, earlier on `sys.path`, wins the import, and the fake would then fail deep inside with an
ImportError that names neither package's location.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

# Where qolaba-mock's packages sit: beside this one, in site-packages or an editable checkout.
_HOME = Path(__file__).resolve().parents[2]


def shadowing(names: tuple[str, ...]) -> str | None:
    """One line naming the first of `names` that resolves to someone else's package, or None if all are ours.

    Resolves without importing: an imported module is judged by `sys.modules`, another by where the import
    system would find it now.
    """
    for name in names:
        found = _location(name)
        if found is not None and found != _HOME / name:
            return (
                f"qolaba-mock: the package '{name}' imported from {found} is not qolaba-mock's "
                f"(which is in {_HOME / name}); rename yours, or move it inside your own package "
                f"(e.g. yourapp.{name}) so that '{name}' means qolaba-mock's"
            )
    return None


def _location(name: str) -> Path | None:
    # A module of the name outside sys.modules is not found, so `find_spec` says where it would come from.
    module = sys.modules.get(name)
    try:
        spec = module.__spec__ if module is not None else importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        # A package: its directory (a namespace package may have several; the first is the one that wins).
        return Path(next(iter(spec.submodule_search_locations))).resolve()
    return Path(spec.origin).resolve() if spec.origin else None
