"""Opening a run against the real API from the plugin's options: every problem is one line, before any test runs.

Imports nothing of schemathesis until the run is opened, so a missing contract extra is named, not a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from contracts.client.target import TargetError, resolve_target
from contracts.real_api.budget import Budget

if TYPE_CHECKING:
    from contracts.real_api.api_run import ApiRun


class RunOptionError(ValueError):
    """An option the run cannot start with; the message is one line naming it."""


def open_api_run(
    base_url: str, token_env: str, *, max_spend: int, allow_sync: bool, record: str | None = None
) -> ApiRun:
    """The run, its token read from `token_env` and its cassette (if any) open; RunOptionError otherwise."""
    try:
        from contracts.real_api.api_run import ApiRun
    except ImportError as exc:
        raise RunOptionError(
            f"--qolaba-target=api judges each answer with the contract's checks, which need {exc.name}:"
            " pip install 'qolaba-mock[contract]'"
        ) from None
    try:
        found = resolve_target(base_url, token_env)
    except TargetError as exc:
        # The CLI's flag names, as this run spells them.
        message = str(exc).replace("--base-url", "--qolaba-base-url").replace("--token-env", "--qolaba-token-env")
        raise RunOptionError(f"--qolaba-target=api: {message}") from None
    if max_spend < 0:
        raise RunOptionError(f"--qolaba-max-spend {max_spend} must be 0 or more")
    budget = Budget(max_spend=max_spend, allow_sync=allow_sync)
    try:
        return ApiRun(found.base_url, budget, record=Path(record) if record else None, token=found.token)
    except OSError as exc:
        raise RunOptionError(f"--qolaba-record {record}: {exc.strerror or exc}") from None
