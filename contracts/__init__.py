"""The Face Consistency contract: the loaded schema and a typed view of its rules.

This package stays light (the fake imports it). The contract checking lives in submodules that load
schemathesis: `contracts.checks` (importing it registers the contract's checks), `contracts.runner`
(`run_contract`, what `qolaba-mock contract` runs) and `contracts.probe` (`run_probe`).

Usage:
    from contracts import field_rules, SUBMIT
    batch = next(rule for rule in field_rules(SUBMIT) if rule.name == "batch")
"""

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

__all__ = [
    "STATUS",
    "SUBMIT",
    "FieldRule",
    "contract_json",
    "contract_text",
    "field_rule",
    "field_rules",
    "load_schema",
    "max_request_bytes",
    "production_backend",
    "production_base_url",
    "request_schema",
]
