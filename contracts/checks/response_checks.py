"""The contract's own schemathesis checks, on top of schemathesis's defaults.

Importing this module registers them (schemathesis checks are global), so a conftest that does
`import contracts.checks` gets them in every `case.call_and_validate()`. Each check acts only on
this contract's operations and stays silent elsewhere, so other schemas in the process are untouched.
Every shape rule is read from `openapi.yaml`; a check fails by raising AssertionError with a
sentence a user can act on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from contracts.client.extra import contract_extra_missing

try:  # the `contract` extra (contracts/client/extra.py)
    import schemathesis
except ModuleNotFoundError as missing:
    raise contract_extra_missing(missing, __name__) from None

from contracts.checks.exchange import envelope_of, is_contract_operation
from contracts.checks.followup_checks import (
    auth_is_enforced,
    queued_task_reaches_terminal_state,
    validation_lists_every_broken_field,
)
from contracts.checks.refusal_checks import REFUSAL_CHECKS, spoken_otherwise
from contracts.checks.spend_guard import decoded_body
from contracts.spec.schema import component

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

ENVELOPES = ("SuccessEnvelope", "QueuedEnvelope", "PendingStatusEnvelope", "FailedEnvelope")
OUTPUT_LISTS = ("result", "low_res_urls")
NSFW_FLAGS = "Has_NSFW_Content"

_PY_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "null": lambda value: value is None,
    "boolean": lambda value: isinstance(value, bool),
    "integer": lambda value: isinstance(value, int) and not isinstance(value, bool),
    "number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
}


def _json_types(spec: dict[str, Any]) -> set[str]:
    if "$ref" in spec:
        return _json_types(component(spec["$ref"].rsplit("/", 1)[1]))
    if "const" in spec:
        return {"string" if isinstance(spec["const"], str) else "null"}
    if "anyOf" in spec:
        return set().union(*(_json_types(option) for option in spec["anyOf"]))
    declared = spec.get("type", "object")
    return set(declared) if isinstance(declared, list) else {declared}


@functools.cache
def envelope_key_types() -> dict[str, frozenset[str]]:
    """Each envelope key and the JSON types it may hold, across every envelope the contract defines."""
    keys: dict[str, set[str]] = {}
    for name in ENVELOPES:
        for key, spec in component(name)["properties"].items():
            keys.setdefault(key, set()).update(_json_types(spec))
    return {key: frozenset(types) for key, types in keys.items()}


@functools.cache
def envelope_statuses() -> frozenset[str]:
    return frozenset(component(name)["properties"]["status"]["const"] for name in ENVELOPES)


@schemathesis.check
def envelope_shape(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """Every answer, whatever its status code, is the envelope: exactly its keys, each of a documented type.

    A refusal in another dialect (FastAPI's `detail`, say) is judged by `contracts.checks.refusal_checks` instead.
    """
    if not is_contract_operation(case) or spoken_otherwise(response):
        return None
    body = envelope_of(response)
    assert body is not None, f"HTTP {response.status_code} answer is not a JSON envelope object"
    expected = envelope_key_types()
    missing, extra = sorted(set(expected) - set(body)), sorted(set(body) - set(expected))
    assert not missing and not extra, f"envelope keys differ: missing {missing}, unexpected {extra}"
    wrong = {key: type(value).__name__ for key, value in body.items() if not _has_type(value, expected[key])}
    assert not wrong, "envelope values of the wrong type: " + ", ".join(
        f"{key} is {name}, expected {'|'.join(sorted(expected[key]))}" for key, name in sorted(wrong.items())
    )
    return None


def _has_type(value: Any, types: frozenset[str]) -> bool:
    return any(_PY_TYPES[name](value) for name in types)


@schemathesis.check
def status_matches_http_code(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """`status` is a documented value; errors carry FAILED and an `error`; SUCCESS/PENDING only with 200."""
    body = envelope_of(response) if is_contract_operation(case) and not spoken_otherwise(response) else None
    if body is None:
        return None
    status, error = body.get("status"), body.get("error")
    assert status in envelope_statuses(), f"status {status!r} is not one of {sorted(envelope_statuses())}"
    code = response.status_code
    if code >= 400:
        assert status == "FAILED", f"HTTP {code} carries status {status!r}, expected 'FAILED'"
    if status == "FAILED":
        assert isinstance(error, str) and error, f"status FAILED (HTTP {code}) without an `error` naming the failure"
    else:
        assert code == 200, f"status {status!r} answered with HTTP {code}, expected 200"
        assert error is None and body.get("error_data") is None, f"status {status!r} carries error {error!r}"
    return None


@schemathesis.check
def output_lists_agree(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """At most `batch` images; `result` and `low_res_urls` pair up; no more images than unflagged ones."""
    body = envelope_of(response) if is_contract_operation(case) else None
    output = body.get("output") if body is not None and body.get("status") == "SUCCESS" else None
    if not isinstance(output, dict) or not all(isinstance(output.get(key), list) for key in OUTPUT_LISTS):
        return None
    result, low_res = output["result"], output["low_res_urls"]
    assert len(result) == len(low_res), f"{len(result)} result URLs but {len(low_res)} low_res_urls"
    flags = output.get(NSFW_FLAGS)
    if isinstance(flags, list):
        clean = sum(1 for flag in flags if flag is False)
        assert len(result) <= clean, f"{len(result)} images returned but only {clean} not flagged NSFW"
    batch = _requested_batch(case, body or {})
    if batch is not None:
        assert len(result) <= batch, f"{len(result)} images returned for batch={batch}"
        if isinstance(flags, list):
            assert len(flags) <= batch, f"{len(flags)} {NSFW_FLAGS} flags for batch={batch}"
    return None


def _requested_batch(case: Case[Any], body: dict[str, Any]) -> int | None:
    # A status answer echoes the original request in `input`; a sync submit has it in the case.
    for source in (decoded_body(case.body), body.get("input")):
        if isinstance(source, dict) and type(source.get("batch")) is int:
            return int(source["batch"])
    return None


@schemathesis.check
def output_urls_absolute(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """Every output URL can be fetched as it stands: absolute http(s) with a host."""
    body = envelope_of(response) if is_contract_operation(case) else None
    output = body.get("output") if body is not None else None
    if not isinstance(output, dict):
        return None
    for key in OUTPUT_LISTS:
        for url in output.get(key) or ():
            parts = urlsplit(url) if isinstance(url, str) else None
            ok = parts is not None and parts.scheme in {"http", "https"} and bool(parts.netloc)
            assert ok, f"output.{key} holds {url!r}, not an absolute http(s) URL"
    return None


@schemathesis.check
def time_required_shape(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """`time_required` is `{}` until there is a result, then seconds as non-negative numbers."""
    body = envelope_of(response) if is_contract_operation(case) else None
    if body is None or "time_required" not in body:
        return None
    timing = body["time_required"]
    assert isinstance(timing, dict), f"time_required is {timing!r}, expected an object"
    if body.get("status") != "SUCCESS":
        assert timing == {}, f"time_required is {timing!r} on a {body.get('status')} answer, expected {{}}"
        return None
    keys = set(component("TimeRequired")["required"])
    assert set(timing) == keys, f"time_required has keys {sorted(timing)}, expected {sorted(keys)}"
    for key, value in timing.items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        assert number and value >= 0, f"time_required.{key} is {value!r}, expected seconds as a number >= 0"
    return None


__all__ = [
    "ANSWER_CHECKS",
    "CONTRACT_CHECKS",
    "REFUSAL_CHECKS",
    "auth_is_enforced",
    "envelope_shape",
    "output_lists_agree",
    "output_urls_absolute",
    "queued_task_reaches_terminal_state",
    "status_matches_http_code",
    "time_required_shape",
    "validation_lists_every_broken_field",
]

# Checks that judge one answer on its own, without sending anything.
ANSWER_CHECKS = (
    envelope_shape,
    status_matches_http_code,
    output_lists_agree,
    output_urls_absolute,
    time_required_shape,
)

# Every check of the contract; the last three send requests of their own (contracts.checks.followup_checks).
CONTRACT_CHECKS = (
    *ANSWER_CHECKS,
    *REFUSAL_CHECKS,
    validation_lists_every_broken_field,
    queued_task_reaches_terminal_state,
    auth_is_enforced,
)
