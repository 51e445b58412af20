"""The contract's own schemathesis checks, on top of schemathesis's defaults.

Importing this module registers them (schemathesis checks are global), so a conftest that does
`import contracts.checks` gets them in every `case.call_and_validate()`. Each check acts only on
this contract's operations and stays silent elsewhere, so other schemas in the process are untouched.
Every shape rule is read from `openapi.yaml`; a check fails by raising AssertionError with a
sentence a user can act on.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import schemathesis

from contracts.lifecycle import PollSettings, base_url_of, credentials_of, poll_until_terminal
from contracts.safety import decoded_body, is_valid_request, poisoned
from contracts.schema import STATUS, SUBMIT, component, operation_path

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

ENVELOPES = ("SuccessEnvelope", "QueuedEnvelope", "PendingStatusEnvelope", "FailedEnvelope")
OUTPUT_LISTS = ("result", "low_res_urls")
NSFW_FLAGS = "Has_NSFW_Content"
MADE_UP_TOKEN = "qolaba-mock-made-up-token"  # a deliberately wrong credential

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


def _ours(case: Case[Any]) -> bool:
    return case.operation.path in {operation_path(SUBMIT), operation_path(STATUS)}


def _envelope(response: Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@schemathesis.check
def envelope_shape(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """Every answer, whatever its status code, is the envelope: exactly its keys, each of a documented type."""
    if not _ours(case):
        return None
    body = _envelope(response)
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
    body = _envelope(response) if _ours(case) else None
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
    body = _envelope(response) if _ours(case) else None
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
    body = _envelope(response) if _ours(case) else None
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
    body = _envelope(response) if _ours(case) else None
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


# Runs that poll tasks themselves (all at once, at the end) register here; otherwise the check polls inline.
_TASK_WATCHERS: dict[int, Callable[[Case[Any], Response], None]] = {}
POLL_SETTINGS = PollSettings()


@contextmanager
def deferred_task_polling(schema: Any, watcher: Callable[[Case[Any], Response], None]) -> Iterator[None]:
    _TASK_WATCHERS[id(schema)] = watcher
    try:
        yield
    finally:
        _TASK_WATCHERS.pop(id(schema), None)


@schemathesis.check
def queued_task_reaches_terminal_state(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """A queued submit, followed through the contract's link to the status operation, ends SUCCESS or FAILED."""
    if case.operation.path != operation_path(SUBMIT) or response.status_code != 200:
        return None
    body = _envelope(response)
    if body is None or body.get("status") != "PENDING" or not isinstance(body.get("task_id"), str):
        return None
    watcher = _TASK_WATCHERS.get(id(case.operation.schema))
    if watcher is not None:
        watcher(case, response)
        return None
    poll = poll_until_terminal(case, response, POLL_SETTINGS)
    assert poll.reached_terminal_state, describe_unfinished(poll.task_id, poll.status, poll.waited, poll.error)
    return None


def describe_unfinished(task_id: str, status: str | None, waited: float, error: str | None) -> str:
    if error is not None:
        return f"polling task {task_id} failed: {error}"
    return f"task {task_id} still {status or 'unreadable'} after {waited:.1f} s of polling"


_auth_probed: set[tuple[int, str]] = set()
_auth_lock = threading.Lock()


@schemathesis.check
def auth_is_enforced(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """Once per operation: the same request without credentials, and with a made-up token, gets 401.

    The probe body is always one the contract rejects, so a server that ignores auth still starts no job.
    """
    if not _ours(case) or response.status_code == 401 or not credentials_of(response):
        return None
    key = (id(case.operation.schema), case.operation.label)
    with _auth_lock:
        if key in _auth_probed:
            return None
        _auth_probed.add(key)
    body = decoded_body(case.body)
    if body is None:
        body = {}  # the contract rejects an empty object too, and it reads better than `null` in a curl line
    if case.operation.path == operation_path(SUBMIT) and is_valid_request(SUBMIT, body) and isinstance(body, dict):
        body = poisoned(body)
    base_url = base_url_of(case, response)
    for label, headers in (("no Authorization header", {}), ("a made-up token", _bearer(MADE_UP_TOKEN))):
        probe = case.operation.Case(body=body, media_type="application/json")
        answer = probe.call(base_url=base_url, headers=headers)
        assert answer.status_code == 401, (
            f"a request with {label} got HTTP {answer.status_code}, expected 401; "
            f"reproduce with: {_probe_curl(probe, headers, base_url)}"
        )
    return None


def _probe_curl(probe: Case[Any], headers: dict[str, str], base_url: str) -> str:
    # schemathesis masks every Authorization header; this one is made up, so showing it is safe and useful.
    shown = "'Authorization: [Filtered]'", f"'Authorization: Bearer {MADE_UP_TOKEN}'"
    return probe.as_curl_command(headers=headers, base_url=base_url).replace(*shown)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def forget_run(schema: Any) -> None:
    """Drop per-run memory (which operations had their auth probed) once a run over `schema` ends."""
    with _auth_lock:
        _auth_probed.difference_update({key for key in _auth_probed if key[0] == id(schema)})


CONTRACT_CHECKS = (
    envelope_shape,
    status_matches_http_code,
    output_lists_agree,
    output_urls_absolute,
    time_required_shape,
    queued_task_reaches_terminal_state,
    auth_is_enforced,
)
