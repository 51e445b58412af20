"""Each package's public surface is pinned here, so it cannot grow or shrink by accident (httpx)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

SURFACES = {
    "mockserver": {
        "Clock", "Config", "ConfigError", "ConnectionFault", "LiveServer", "QolabaMock", "SystemClock",
        "VirtualClock", "WaitsForever", "create_app",
    },
    "contracts": {
        # the contract and its rules
        "STATUS", "SUBMIT", "FieldRule", "contract_json", "contract_text", "field_rule", "field_rules",
        "load_schema", "max_request_bytes", "production_backend", "production_base_url", "request_schema",
        # the tools: contract, probe, record, diff
        "Target", "TargetError", "RunOptions", "RunOutcome", "run_contract", "ProbeReport", "run_probe",
        "Cassette", "CassetteError", "read_cassette", "recording_proxy", "DiffReport", "diff_cassette", "diff_live",
        "DiffPlan", "Pacing", "to_har", "write_har",
    },
    "strategies": {
        "PROFILES", "RULES", "InvalidRequest", "Rule", "boundary_face_requests", "face_requests",
        "invalid_face_requests", "load_profile", "register_profiles", "status_requests", "task_ids",
    },
}  # fmt: skip


@pytest.mark.parametrize("package", sorted(SURFACES))
def test_all_is_exactly_the_pinned_surface_and_every_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert set(module.__all__) == SURFACES[package]
    assert all(getattr(module, name) is not None for name in module.__all__)


@pytest.mark.parametrize("package", sorted(SURFACES))
def test_nothing_public_is_left_out_of_all(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        getattr(module, name)  # a package that imports its names on first use must still have each of them
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not (hasattr(value, "__file__") or type(value).__name__ == "module")
    }
    assert public - set(module.__all__) - {"TYPE_CHECKING", "Any"} == set()


def test_importing_contracts_loads_none_of_the_tools_dependencies() -> None:
    heavy = "('schemathesis', 'hypothesis', 'starlette')"
    probe = f"import sys, contracts; print(sorted(m for m in {heavy} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_checks_module_exports_the_checks_and_their_groups_only() -> None:
    from contracts import checks

    assert set(checks.__all__) == {
        "ANSWER_CHECKS", "CONTRACT_CHECKS", "REFUSAL_CHECKS",
        "auth_is_enforced", "envelope_shape", "output_lists_agree", "output_urls_absolute",
        "queued_task_reaches_terminal_state", "status_matches_http_code", "time_required_shape",
        "validation_lists_every_broken_field",
    }  # fmt: skip
    assert all(callable(getattr(checks, name)) for name in checks.__all__ if name.islower())
