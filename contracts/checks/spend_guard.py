"""Which requests may start a GPU job, and the guard that keeps a contract run from sending them.

A submit whose body the contract accepts starts real (billed) work in production. `safe` runs send
no request the contract accepts, for any operation; `full` runs send at most `max_spend` valid
submits, each forced to `celery: true` so nothing holds a generation open on a connection that
times out. The guard sits in schemathesis's `filter_case`
(drops a case before it is sent) and `before_call` (the last point before the wire), both
registered globally but acting only on schemas a run has put under guard.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from contracts.client.extra import contract_extra_missing

try:  # the `contract` extra (contracts/client/extra.py)
    import schemathesis
except ModuleNotFoundError as missing:
    raise contract_extra_missing(missing, __name__) from None

from contracts.checks.run_registry import Guard, run_of
from contracts.client.target import Mode
from contracts.spec.dialects import breaks_request_model, read_answer, request_level_fields
from contracts.spec.schema import STATUS, SUBMIT, operation_path, poison_field
from contracts.spec.validators import request_validator

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

CELERY = "celery"


class SpendRefused(RuntimeError):
    """A request that could start a GPU job reached the wire although the run's guard forbids it."""


def decoded_body(body: Any) -> Any:
    """The JSON value a body carries once serialised, or None when it is not JSON at all."""
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:
            return None
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return None
    return body if isinstance(body, (dict, list, int, float, bool)) else None


def is_valid_request(operation_id: str, body: Any) -> bool:
    """True when the contract says this body must be accepted."""
    value = decoded_body(body)
    if value is None:
        return False
    return bool(request_validator(operation_id).is_valid(value))


def poisoned(body: dict[str, Any]) -> dict[str, Any]:
    """`body` without one required field, so the contract says it must be rejected."""
    return {name: value for name, value in body.items() if name != poison_field()}


def contract_accepts(case: Case[Any]) -> bool:
    """True when the contract says the server must accept this case (a submit that does starts a GPU job)."""
    operation_id = _operation_ids().get(case.operation.path)
    # Coverage also sends the operation's body with other methods (PUT, PATCH...); those must get 405.
    sent_as_documented = case.method.upper() == case.operation.method.upper()
    return operation_id is not None and sent_as_documented and is_valid_request(operation_id, case.body)


def starts_a_job(case: Case[Any]) -> bool:
    return case.operation.path == operation_path(SUBMIT) and contract_accepts(case)


@functools.cache
def _operation_ids() -> dict[str, str]:
    return {operation_path(operation_id): operation_id for operation_id in (SUBMIT, STATUS)}


@dataclass
class SpendGuard:
    """One run's spending policy; thread-safe because schemathesis may call from worker threads."""

    mode: Mode
    max_spend: int | None = None  # None: no cap (the fake on loopback costs nothing)
    # Safe mode may still read task status: a made-up id reads PENDING and starts nothing.
    status_reads: bool = False
    spent: int = 0
    refused: int = 0
    # Spent submits that were not queued, by how they were answered: a summary says why there are fewer tasks.
    answered_at_once: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def admits(self, case: Case[Any]) -> bool:
        """Whether a generated case may be sent; safe runs drop every case the contract would accept."""
        if self._forbids(case):
            with self._lock:
                self.refused += 1
            return False
        return True

    def before_send(self, case: Case[Any]) -> None:
        if self._forbids(case):
            raise SpendRefused(f"{self.mode} mode: refusing to send a request that could invoke a job")
        if not starts_a_job(case):
            return
        _force_queued(case)
        with self._lock:
            if self.max_spend is not None and self.spent >= self.max_spend:
                raise SpendRefused(f"--max-spend {self.max_spend} reached: refusing another valid request")
            self.spent += 1

    def after_send(self, case: Case[Any], response: Response) -> None:
        if not starts_a_job(case):
            return
        body = _json(response)
        reading = read_answer(response.status_code, body)
        if reading.kind == "queued":
            return
        # schemathesis's coverage phase sends a valid body without its Authorization header, or as another media
        # type: refused at once, with no task to poll.
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            words = str(detail[0].get("msg", ""))  # FastAPI's list, by its first message
        else:
            words = reading.error or ("SUCCESS" if reading.kind == "accepted" else "")
        with self._lock:
            self.answered_at_once[f"HTTP {response.status_code} {words}".strip()] += 1

    def _forbids(self, case: Case[Any]) -> bool:
        if self.mode == "free":
            return not refused_before_any_job(case)
        if self.mode != "safe" or not contract_accepts(case):
            return False
        return not (self.status_reads and case.operation.path == operation_path(STATUS))


def refused_before_any_job(case: Case[Any]) -> bool:
    """Certain to be refused before a job is invoked: a status read, another method, a body that is no JSON
    object, or one that breaks a field the backend checks before any job (docs/fidelity.md). Anything else
    may reach a GPU worker, even to be refused there."""
    if case.operation.path != operation_path(SUBMIT) or case.method.upper() != case.operation.method.upper():
        return True
    body = decoded_body(case.body)
    if not isinstance(body, dict):
        return True
    return any(breaks_request_model(name, body.get(name), present=name in body) for name in request_level_fields())


def _force_queued(case: Case[Any]) -> None:
    # Only valid bodies get here, so setting celery keeps them valid.
    body = decoded_body(case.body)
    if isinstance(body, dict) and body.get(CELERY) is not True:
        case.body = {**body, CELERY: True}


def _guard_for(case: Case[Any]) -> Guard | None:
    return run_of(case.operation.schema).guard


@schemathesis.hook
def filter_case(context: Any, case: Case[Any]) -> bool:
    guard = _guard_for(case)
    return guard is None or guard.admits(case)


@schemathesis.hook
def before_call(context: Any, case: Case[Any], kwargs: dict[str, Any]) -> None:
    guard = _guard_for(case)
    if guard is not None:
        guard.before_send(case)


@schemathesis.hook
def after_call(context: Any, case: Case[Any], response: Response) -> None:
    guard = _guard_for(case)
    if guard is not None:
        guard.after_send(case, response)


def _json(response: Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
