"""The Face Consistency contract: the loaded schema, a typed view of its rules, and the tools that check an API.

Importing the package stays light (the fake imports it): the schema and its rules load at once; the tools
(`run_contract`, `run_probe`, `diff_cassette`, ...) load schemathesis and friends only when first used.

Usage:
    from contracts import field_rules, SUBMIT
    batch = next(rule for rule in field_rules(SUBMIT) if rule.name == "batch")

    from contracts import RunOptions, Target, run_contract
    outcome = run_contract(Target("http://127.0.0.1:8000", token="..."), RunOptions(mode="safe"))
"""

import importlib
from typing import TYPE_CHECKING, Any

from contracts.schema import (
    STATUS,
    SUBMIT,
    FieldRule,
    contract_json,
    contract_text,
    field_rule,
    field_rules,
    load_schema,
    max_request_bytes,
    production_backend,
    production_base_url,
    request_schema,
)

if TYPE_CHECKING:  # type checkers see the real names; at run time `__getattr__` imports them when first used
    from contracts.cassette import Cassette, CassetteError, read_cassette
    from contracts.comparison import DiffReport
    from contracts.diff import diff_cassette, diff_live
    from contracts.outcome import RunOutcome
    from contracts.probe import ProbeReport, run_probe
    from contracts.record import recording_proxy
    from contracts.runner import RunOptions, run_contract
    from contracts.target import Target, TargetError

# The tools, each from the module that owns it, imported on first use.
_TOOLS = {
    "Cassette": "contracts.cassette",
    "CassetteError": "contracts.cassette",
    "DiffReport": "contracts.comparison",
    "ProbeReport": "contracts.probe",
    "RunOptions": "contracts.runner",
    "RunOutcome": "contracts.outcome",
    "Target": "contracts.target",
    "TargetError": "contracts.target",
    "diff_cassette": "contracts.diff",
    "diff_live": "contracts.diff",
    "read_cassette": "contracts.cassette",
    "recording_proxy": "contracts.record",
    "run_contract": "contracts.runner",
    "run_probe": "contracts.probe",
}

__all__ = [
    "STATUS",
    "SUBMIT",
    "Cassette",
    "CassetteError",
    "DiffReport",
    "FieldRule",
    "ProbeReport",
    "RunOptions",
    "RunOutcome",
    "Target",
    "TargetError",
    "contract_json",
    "contract_text",
    "diff_cassette",
    "diff_live",
    "field_rule",
    "field_rules",
    "load_schema",
    "max_request_bytes",
    "production_backend",
    "production_base_url",
    "read_cassette",
    "recording_proxy",
    "request_schema",
    "run_contract",
    "run_probe",
]


def __getattr__(name: str) -> Any:
    if name in _TOOLS:
        try:
            module = importlib.import_module(_TOOLS[name])
        except ModuleNotFoundError as missing:
            from contracts.extra import INSTALL_HINT

            if (missing.name or "").partition(".")[0] != "schemathesis":
                raise
            raise ModuleNotFoundError(
                f"contracts.{name} needs schemathesis: {INSTALL_HINT}", name=missing.name
            ) from None
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'contracts' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
