"""Which failure the fake answers with: the fault vocabulary, the spec grammar, and a seeded plan.

Each fault in `FAULTS` carries its effects (fault_effects.py) and which requests it can meet; the simulation
acts them out without asking a fault's name, so a new fault is one entry in the table. A fault spec reads
`NAME[:WHEN][@OPERATION]`, e.g. `http_429:0.1@status` or `no_face:every:3`. A `FaultPlan` holds the parsed
rules and decides, request by request, which fault (if any) applies.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from mockserver.behaviour.fault_effects import (
    ANY_SUBMIT,
    ConnectionAct,
    CrashedTask,
    Eligible,
    JobFailure,
    LostTask,
    OutputFilter,
    Refusal,
    ResultEffect,
    TaskEffect,
)
from mockserver.behaviour.fault_schedules import FaultError as FaultError
from mockserver.behaviour.fault_schedules import Schedule, parse_when

Family = Literal["http", "domain", "connection"]
Operation = Literal["submit", "status"]

_OPERATIONS: Mapping[str, Operation] = {"submit": "submit", "status": "status"}
_BOTH: frozenset[Operation] = frozenset(_OPERATIONS.values())
_SUBMIT: frozenset[Operation] = frozenset({"submit"})
_GRAMMAR = "NAME[:WHEN][@OPERATION], e.g. http_429:0.1@status"


@dataclass(frozen=True)
class Fault:
    """One way a request can fail: what it does (fault_effects.py) and which requests it can meet.

    The simulation acts out `answer`, `result`, `task` and `connection` as they are set; nothing asks a
    fault's name or family; `family` only groups the vocabulary for people reading it.
    """

    name: str
    family: Family
    operations: frozenset[Operation]
    eligible: Eligible = ANY_SUBMIT
    # The answer replaced by an error, before (or, `job_runs_on`, beside) the job.
    answer: Refusal | None = None
    # What the job's result becomes.
    result: ResultEffect | None = None
    # What becomes of the queued task instead of its result.
    task: TaskEffect | None = None
    # The answer (whatever it is) lost or mangled on its way back.
    connection: ConnectionAct | None = None

    @property
    def status_code(self) -> int | None:
        """The status code the fault answers with itself, if it answers."""
        return self.answer.status_code if self.answer is not None else None

    @property
    def error(self) -> str | None:
        """The `error` the fault's own answer, failed job or crashed task carries, if any."""
        worded = self._worded
        return worded.error if worded is not None else None

    @property
    def error_data(self) -> str | None:
        worded = self._worded
        return worded.error_data if worded is not None else None

    @property
    def _worded(self) -> Refusal | JobFailure | CrashedTask | None:
        if self.answer is not None:
            return self.answer
        if isinstance(self.result, JobFailure):
            return self.result
        return self.task if isinstance(self.task, CrashedTask) else None


def _http(name: str, answer: Refusal, eligible: Eligible = ANY_SUBMIT) -> Fault:
    return Fault(name, "http", _BOTH, eligible, answer=answer)


# A job the profile fails at once meets no failure of the generation: it never gets that far.
_GENERATING = Eligible(failing=False)
# Only a queued submit has a task to lose or crash.
_QUEUED = Eligible(sync=False)
# A queued submit answers before any gateway could time out; a job that fails at once answers at once.
_SYNC_GENERATING = Eligible(queued=False, failing=False)


def _domain(
    name: str, *, result: ResultEffect | None = None, task: TaskEffect | None = None, eligible: Eligible = _GENERATING
) -> Fault:
    # Generation failures happen inside the job, so only a submit can cause them; status only reports them.
    return Fault(name, "domain", _SUBMIT, eligible, result=result, task=task)


def _connection(act: ConnectionAct) -> Fault:
    # The request gets through and any job runs on; only the answer is lost or mangled on the way back.
    return Fault(act, "connection", _BOTH, connection=act)


# Production's wording (api-evidence §3.3-3.4) where known; its 429/503/504 bodies are unknown, so those reuse
# the envelope with the reason phrase.
_RETRY_AFTER = 2
_GATEWAY_TIMEOUT = "The upstream server did not respond in time."
_CUDA_OOM = (
    "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 22.19 GiB total capacity; "
    "19.87 GiB already allocated; 1.42 GiB free; 20.31 GiB reserved in total by PyTorch)"
)

# The vocabulary, in family order. A new fault is one entry here, built of the effects in fault_effects.py.
FAULTS: Mapping[str, Fault] = MappingProxyType(
    {
        fault.name: fault
        for fault in (
            _http("http_500", Refusal(500, "Internal Error", "()")),
            _http(
                "http_429",
                Refusal(429, "Too Many Requests", "Rate limit exceeded. Please retry after some time.", _RETRY_AFTER),
            ),
            _http(
                "http_503", Refusal(503, "Service Unavailable", "The service is temporarily unavailable. Please retry.")
            ),
            # The gateway gives up on a sync call after `gateway_timeout` seconds; the job runs on.
            _http(
                "gateway_timeout",
                Refusal(504, "Gateway Timeout", _GATEWAY_TIMEOUT, after_gateway_timeout=True, job_runs_on=True),
                _SYNC_GENERATING,
            ),
            _domain(
                "no_face",
                result=JobFailure("Face Consistent Error", "Unable to detect faces. Please provide a clear image."),
            ),
            _domain(
                "bad_image_url",
                result=JobFailure("Image URL Error", "Given image type is not supported. Please try with JPG or PNG."),
            ),
            _domain("nsfw", result=OutputFilter(nsfw=True)),
            _domain("task_failed", result=JobFailure("Internal Error", _CUDA_OOM)),
            _domain("task_lost", task=LostTask(), eligible=_QUEUED),
            # The second content check (Worker.py L263-319) drops an image without flagging it.
            _domain("content_filtered", result=OutputFilter(dropped=1)),
            # The Celery worker dies (e.g. killed for memory): the poll re-raises WorkerLostError, a 500 with
            # empty input (main.py L73-80).
            _domain(
                "task_crashed",
                task=CrashedTask(500, "Internal Error", "Worker exited prematurely: signal 9 (SIGKILL) Job: 0."),
                eligible=_QUEUED,
            ),
            _connection("reset"),
            _connection("empty_response"),
            _connection("malformed_json"),
            _connection("hang"),
            _connection("slow_body"),
        )
    }
)


@dataclass(frozen=True)
class FaultRule:
    """A fault, when it fires (`always`, `p=0.1`, `every:3`, `nth:2,5`, `first:4`) and on which operation."""

    fault: Fault
    when: Schedule
    operation: Operation | None
    spec: str


def parse_fault(spec: str) -> FaultRule:
    """The rule a `NAME[:WHEN][@OPERATION]` spec describes; FaultError names the spec and what was expected.

    Usage:
        parse_fault("http_429:0.1@status")   # a 429 on one status poll in ten
        parse_fault("no_face:nth:2,5")       # the 2nd and 5th submits find no face
    """
    where = f"fault={spec!r}"
    if not spec.strip():
        raise FaultError(f"{where} is empty; expected {_GRAMMAR}")
    head, at, operation_text = spec.partition("@")
    name, colon, when_text = (part.strip() for part in head.partition(":"))
    fault = FAULTS.get(name)
    if fault is None:
        raise FaultError(f"{where} names no known fault; expected one of {', '.join(FAULTS)}")
    when = parse_when(when_text, where) if colon else Schedule("always")
    operation = _operation(operation_text.strip(), fault, where) if at else None
    normalised = name if when.kind == "always" else f"{name}:{when.text.removeprefix('p=')}"
    return FaultRule(fault, when, operation, normalised if operation is None else f"{normalised}@{operation}")


def header_fault(value: str, operation: Operation) -> Fault:
    """The fault one request asks for with `X-Mock-Fault: <name>`: a plain name, valid for the operation.

    Usage:
        header_fault("no_face", "submit")   # FAULTS["no_face"]
    """
    where = f"X-Mock-Fault={value!r}"
    fault = FAULTS.get(value.strip())
    if fault is None:
        raise FaultError(f"{where} is not a fault name; expected one of {', '.join(FAULTS)}")
    _operation(operation, fault, where)
    return fault


def _any_fault(fault: Fault) -> bool:
    return True


class FaultPlan:
    """Decides, per request, which fault (if any) applies. Deterministic given the rng and the request order.

    Rules are tried in order and the first that fires wins. Every rule that applies to a request counts it,
    and every probability rule draws once for it, even when an earlier rule already fired, so one rule's
    schedule never shifts another's. A rule the `eligible` callback excludes neither counts nor draws.

    Usage:
        plan = FaultPlan([parse_fault("http_500:every:3"), parse_fault("no_face:0.1")], random.Random(7))
        fault = plan.choose("submit", eligible=lambda f: f.eligible.admits(queued=False, failing=False))
    """

    def __init__(self, rules: Sequence[FaultRule], rng: random.Random) -> None:
        self._rules = tuple(rules)
        self._rng = rng
        self._counts = [0] * len(self._rules)

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        return self._rules

    def choose(self, operation: Operation, *, eligible: Callable[[Fault], bool] = _any_fault) -> Fault | None:
        """The fault for this request, or None; counts the request for every rule that applies to it."""
        chosen: Fault | None = None
        for index, rule in enumerate(self._rules):
            applies = operation in rule.fault.operations and rule.operation in (None, operation)
            if not applies or not eligible(rule.fault):
                continue
            self._counts[index] += 1
            if rule.when.fires(self._counts[index], self._rng) and chosen is None:
                chosen = rule.fault
        return chosen

    def reset_counts(self) -> None:
        """Start every schedule again from request 1; the rng is the caller's and is left as it is."""
        self._counts = [0] * len(self._rules)


def _operation(text: str, fault: Fault, where: str) -> Operation:
    operation = _OPERATIONS.get(text)
    if operation is None:
        raise FaultError(f"{where} has unknown operation {text!r}; expected submit or status")
    if operation not in fault.operations:
        applies_to = " and ".join(sorted(fault.operations))
        raise FaultError(f"{where}: {fault.name} cannot apply to {operation}; it applies to {applies_to} only")
    return operation
