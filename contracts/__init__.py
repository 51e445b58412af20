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

from contracts.spec.schema import (
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
    from contracts.cassette.har_writer import to_har, write_har
    from contracts.cassette.jsonl import Cassette, CassetteError
    from contracts.cassette.reading import read_cassette
    from contracts.client.pacing import Pacing
    from contracts.client.target import Target, TargetError
    from contracts.probe.matrix import ProbeReport, run_probe
    from contracts.run.engine import RunOptions, run_contract
    from contracts.run.outcome import RunOutcome
    from contracts.traffic.comparison import DiffReport
    from contracts.traffic.diff import diff_cassette
    from contracts.traffic.live_diff import DiffPlan, diff_live
    from contracts.traffic.recording_proxy import recording_proxy

# The tools, each from the module that owns it, imported on first use.
_TOOLS = {
    "Cassette": "contracts.cassette.jsonl",
    "CassetteError": "contracts.cassette.jsonl",
    "DiffPlan": "contracts.traffic.live_diff",
    "DiffReport": "contracts.traffic.comparison",
    "Pacing": "contracts.client.pacing",
    "ProbeReport": "contracts.probe.matrix",
    "RunOptions": "contracts.run.engine",
    "RunOutcome": "contracts.run.outcome",
    "Target": "contracts.client.target",
    "TargetError": "contracts.client.target",
    "diff_cassette": "contracts.traffic.diff",
    "diff_live": "contracts.traffic.live_diff",
    "read_cassette": "contracts.cassette.reading",
    "to_har": "contracts.cassette.har_writer",
    "write_har": "contracts.cassette.har_writer",
    "recording_proxy": "contracts.traffic.recording_proxy",
    "run_contract": "contracts.run.engine",
    "run_probe": "contracts.probe.matrix",
}

__all__ = [
    "STATUS",
    "SUBMIT",
    "Cassette",
    "CassetteError",
    "DiffPlan",
    "DiffReport",
    "FieldRule",
    "Pacing",
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
    "to_har",
    "write_har",
]


def __getattr__(name: str) -> Any:
    if name in _TOOLS:
        try:
            module = importlib.import_module(_TOOLS[name])
        except ModuleNotFoundError as missing:
            from contracts.client.extra import contract_extra_missing

            raise contract_extra_missing(missing, f"contracts.{name}") from None
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'contracts' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
