"""Which failure the fake answers with: the fault vocabulary, the spec grammar, and a seeded plan.

A fault spec reads `NAME[:WHEN][@OPERATION]`, e.g. `http_429:0.1@status` or `no_face:every:3`. A `FaultPlan`
holds the parsed rules and decides, request by request, which fault (if any) applies; the transport turns the
chosen `Fault` into a response.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Family = Literal["http", "domain", "connection"]
Operation = Literal["submit", "status"]

_OPERATIONS: Mapping[str, Operation] = {"submit": "submit", "status": "status"}
_BOTH: frozenset[Operation] = frozenset(_OPERATIONS.values())
_SUBMIT: frozenset[Operation] = frozenset({"submit"})
_GRAMMAR = "NAME[:WHEN][@OPERATION], e.g. http_429:0.1@status"
_WHEN_SHAPES = "a probability between 0 and 1, every:N, nth:N[,N...], first:N or always"


class FaultError(ValueError):
    """A fault spec or header that cannot be used; the message names it and what was expected."""


@dataclass(frozen=True)
class Fault:
    """One way a request can fail, with the status and envelope wording the fake answers with."""

    name: str
    family: Family
    status_code: int | None
    error: str | None
    error_data: str | None
    operations: frozenset[Operation]


def _http(name: str, status_code: int, error: str, error_data: str) -> Fault:
    return Fault(name, "http", status_code, error, error_data, _BOTH)


def _domain(name: str, error: str | None = None, error_data: str | None = None) -> Fault:
    # Generation failures happen inside the job, so only a submit can cause them; status only reports them.
    return Fault(name, "domain", None, error, error_data, _SUBMIT)


def _connection(name: str) -> Fault:
    return Fault(name, "connection", None, None, None, _BOTH)


# The wording is production's (api-evidence §3.3-3.4) where known. Production's 429/503/504 bodies are
# unknown, so those reuse the envelope with the reason phrase.
FAULTS: Mapping[str, Fault] = MappingProxyType(
    {
        fault.name: fault
        for fault in (
            _http("http_500", 500, "Internal Error", "()"),
            _http("http_429", 429, "Too Many Requests", "Rate limit exceeded. Please retry after some time."),
            _http("http_503", 503, "Service Unavailable", "The service is temporarily unavailable. Please retry."),
            _http("gateway_timeout", 504, "Gateway Timeout", "The upstream server did not respond in time."),
            _domain("no_face", "Face Consistent Error", "Unable to detect faces. Please provide a clear image."),
            _domain(
                "bad_image_url", "Image URL Error", "Given image type is not supported. Please try with JPG or PNG."
            ),
            _domain("nsfw"),
            _domain(
                "task_failed",
                "Internal Error",
                "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 22.19 GiB total capacity; "
                "19.87 GiB already allocated; 1.42 GiB free; 20.31 GiB reserved in total by PyTorch)",
            ),
            _domain("task_lost"),
            # The second content check (Worker.py L263-319) drops an image without flagging it.
            _domain("content_filtered"),
            # The Celery worker dies (e.g. killed for memory): the poll answers 500 (main.py L73-80).
            _domain("task_crashed"),
            _connection("reset"),
            _connection("empty_response"),
            _connection("malformed_json"),
            _connection("hang"),
            _connection("slow_body"),
        )
    }
)


_Kind = Literal["always", "p", "every", "nth", "first"]
# Counted schedules and the smallest number each accepts.
_COUNTED: Mapping[str, tuple[_Kind, int]] = {"every": ("every", 1), "nth": ("nth", 1), "first": ("first", 0)}


@dataclass(frozen=True)
class Schedule:
    """When a fault fires: `always`, `p=0.1`, `every:3`, `nth:2,5` or `first:4`, parsed once."""

    kind: _Kind
    probability: float = 1.0
    numbers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # A schedule built by hand is held to the grammar's rules, so a plan never meets one it cannot run.
        if self.kind in _COUNTED:
            minimum = _COUNTED[self.kind][1]
            if (
                not self.numbers
                or any(n < minimum for n in self.numbers)
                or (self.kind != "nth" and len(self.numbers) > 1)
            ):
                raise FaultError(f"{self.kind} needs whole numbers >= {minimum}, got {self.numbers!r}")
        elif self.kind == "p" and not 0 <= self.probability <= 1:
            raise FaultError("probability must be between 0 and 1")

    @property
    def text(self) -> str:
        if self.kind == "p":
            return f"p={self.probability!r}".removesuffix(".0")
        return self.kind if self.kind == "always" else f"{self.kind}:{','.join(map(str, self.numbers))}"

    def fires(self, count: int, rng: random.Random) -> bool:
        if self.kind == "p":
            return rng.random() < self.probability
        if self.kind == "every":
            return count % self.numbers[0] == 0
        if self.kind == "nth":
            return count in self.numbers
        if self.kind == "first":
            return count <= self.numbers[0]
        return True


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
    when = _parse_when(when_text, where) if colon else Schedule("always")
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
        fault = plan.choose("submit", eligible=lambda f: f.name != "task_lost")
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


def _parse_when(text: str, where: str) -> Schedule:
    kind, colon, rest = (part.strip() for part in text.partition(":"))
    if kind == "always" and not colon:
        return Schedule("always")
    if colon and kind in _COUNTED:
        counted, minimum = _COUNTED[kind]
        parts = [part.strip() for part in rest.split(",")]
        if any(not part.isdecimal() or int(part) < minimum for part in parts) or (kind != "nth" and len(parts) > 1):
            raise FaultError(f"{where} {kind} needs whole numbers >= {minimum}, got {rest!r}")
        return Schedule(counted, numbers=tuple(sorted({int(part) for part in parts})))
    try:
        probability = float(kind.removeprefix("p=")) if not colon else None
    except ValueError:
        probability = None
    if probability is None:
        raise FaultError(f"{where} has WHEN {text.strip()!r}; expected {_WHEN_SHAPES}")
    if not 0 <= probability <= 1:
        raise FaultError(f"{where} probability must be between 0 and 1")
    return Schedule("p", probability=probability)


def _operation(text: str, fault: Fault, where: str) -> Operation:
    operation = _OPERATIONS.get(text)
    if operation is None:
        raise FaultError(f"{where} has unknown operation {text!r}; expected submit or status")
    if operation not in fault.operations:
        applies_to = " and ".join(sorted(fault.operations))
        raise FaultError(f"{where}: {fault.name} cannot apply to {operation}; it applies to {applies_to} only")
    return operation
