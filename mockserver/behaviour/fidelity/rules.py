"""When a broken rule is refused, and in whose words: at once by the contract, or in the job by the backend.

A request is either refused before any job (`Refused`: the answer is ready), or becomes a job (`Job`): the
normalised request to generate from and, if the job is bound to fail, why. `input` echoes are decided
here too, since they mirror the model that read the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from contracts.spec.schema import STATUS, SUBMIT, field_rules
from mockserver.wire import envelope
from mockserver.wire.envelope import Reply
from mockserver.wire.request_validation import validate, with_defaults


# Built once or twice per request: slotted and not frozen, since a frozen dataclass pays a call per field.
@dataclass(slots=True)
class Refused:
    """Refused before any job: this is the answer."""

    reply: Reply


@dataclass(slots=True)
class Job:
    """A submit that runs. `request` is normalised (defaults filled, types coerced); `fails_with` is the
    `(error, error_data)` the job ends with, or None for a job that generates."""

    request: dict[str, Any]
    echo: dict[str, Any]
    fails_with: tuple[str, str] | None = None


@dataclass(slots=True)
class Lookup:
    """A status read of `task_id`."""

    task_id: str
    ref_id: str


class Rules(Protocol):
    def admit_submit(self, body: dict[str, Any]) -> Refused | Job: ...

    def admit_status(self, body: dict[str, Any]) -> Refused | Lookup: ...

    def echo_status(self, lookup: Lookup) -> dict[str, Any]: ...


class ContractRules:
    """The documented contract: every broken rule is refused at once, 422, listing each one. Types are strict."""

    def admit_submit(self, body: dict[str, Any]) -> Refused | Job:
        errors = validate(SUBMIT, body)
        if errors:
            return Refused(Reply(422, envelope.invalid(errors=[e.as_dict() for e in errors], body=body)))
        return Job(request=_normalised(with_defaults(SUBMIT, body)), echo=body)

    def admit_status(self, body: dict[str, Any]) -> Refused | Lookup:
        errors = validate(STATUS, body)
        if errors:
            return Refused(Reply(422, envelope.invalid(errors=[e.as_dict() for e in errors], body=body)))
        return Lookup(task_id=body["id"], ref_id=body.get("refID", ""))

    def echo_status(self, lookup: Lookup) -> dict[str, Any]:
        return {"task_id": lookup.task_id, "ref_id": lookup.ref_id}


_INTEGER_FIELDS = frozenset(rule.name for rule in field_rules(SUBMIT) if rule.type == "integer")


def _normalised(request: dict[str, Any]) -> dict[str, Any]:
    # JSON Schema counts 512.0 as an integer; the backend uses it as 512. `request` is a copy already.
    for name in _INTEGER_FIELDS:
        if type(request.get(name)) is float:
            request[name] = int(request[name])
    return request
