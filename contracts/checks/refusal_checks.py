"""Checks that count a refusal in any dialect as a refusal, in place of schemathesis's own.

schemathesis's `negative_data_rejection`, `status_code_conformance`, `response_schema_conformance`,
`not_a_server_error`, `missing_required_header` and `ignored_auth` expect the contract's own refusal: a
documented 4xx, at once. The backend behind the public API refuses in other words and at other times
(`contracts.spec.dialects`): a 403, FastAPI's 422, a 500 from its exception handler, or a FAILED answer from
inside the job, in the sync answer or when the queued task is polled. Read with those checks, a
production-like API is a wall of false failures. These checks count every such refusal as one, record
where and how it was made (the run's summary lists it), and still fail on what no dialect explains: a
request the contract rejects that the API accepted, or a 5xx that is no refusal.

A `contract` run excludes the schemathesis checks these replace (contracts/run/engine.py); in a user's own
pytest both run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.client.extra import contract_extra_missing

try:  # the `contract` extra (contracts/client/extra.py)
    import schemathesis
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance
except ModuleNotFoundError as missing:
    raise contract_extra_missing(missing, __name__) from None

from contracts.checks.exchange import broken_fields, is_contract_operation, operation_id_of
from contracts.checks.run_registry import run_of
from contracts.checks.spend_guard import contract_accepts, decoded_body
from contracts.spec.dialects import Reading, read_answer

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

# The schemathesis checks replaced here; a contract run excludes them.
REPLACED = (
    "negative_data_rejection",
    "status_code_conformance",
    "response_schema_conformance",
    "not_a_server_error",
    "missing_required_header",
    "ignored_auth",
)


def reading_of(response: Response, *, polled: bool = False) -> Reading:
    try:
        body = response.json()
    except ValueError:
        body = None
    return read_answer(response.status_code, body, polled=polled)


def spoken_otherwise(response: Response) -> bool:
    """True when the answer is a refusal in a dialect other than the contract's (judged by the checks here)."""
    return reading_of(response).dialect in ("fastapi", "backend", "pydantic")


def forbidden(case: Case[Any]) -> bool:
    """A request of this contract's operations, sent as documented, that the contract says must be refused."""
    sent_as_documented = case.method.upper() == case.operation.method.upper()
    return is_contract_operation(case) and sent_as_documented and not contract_accepts(case)


def judge_refusal(case: Case[Any], reading: Reading) -> None:
    """Record how a forbidden request was refused, or fail if it was accepted; queued answers wait for the poll."""
    if reading.kind == "queued":
        return  # polled by queued_task_reaches_terminal_state, then judged again (contracts/run/engine.py)
    fields = _broken(case)
    broke = ", ".join(fields) or "its body"
    if reading.kind == "accepted":
        raise AssertionError(
            f"the API accepted (HTTP {reading.status_code}, SUCCESS) a request the contract rejects: it breaks {broke}"
        )
    if reading.dialect == "contract" and not 400 <= reading.status_code < 500:
        # The contract's own words come with its own codes; another code is no other dialect, only drift.
        raise AssertionError(
            f"the API refused a request that breaks {broke} in the contract's words, but with HTTP "
            f"{reading.status_code}; the contract says 4xx"
        )
    record_refusal(case, fields, reading.how)


def record_refusal(case: Case[Any], fields: tuple[str, ...], how: str) -> None:
    """Tell the run over `case`'s schema, if any is listening, that `fields` were refused `how`."""
    recorder = run_of(case.operation.schema).record_refusal
    if recorder is not None:
        recorder(case.operation.label, fields, how)


@schemathesis.check
def refuses_what_the_contract_forbids(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """A request the contract rejects is refused: at once in any dialect, or by a job that fails."""
    if not forbidden(case):
        return None
    judge_refusal(case, reading_of(response))
    return None


@schemathesis.check
def documented_status_code(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """The status code is one the contract documents, unless the answer is a refusal in another dialect."""
    if not is_contract_operation(case) or spoken_otherwise(response):
        return None
    return status_code_conformance(ctx, response, case)


@schemathesis.check
def documented_response_schema(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """The body matches the contract's schema for its status, unless it is a refusal in another dialect."""
    if not is_contract_operation(case) or spoken_otherwise(response):
        return None
    return response_schema_conformance(ctx, response, case)


@schemathesis.check
def no_unexplained_server_error(ctx: Any, response: Response, case: Case[Any]) -> bool | None:
    """No 5xx, except the backend's own refusal of a request (its exception handler's `Internal Error`)."""
    if not is_contract_operation(case) or response.status_code < 500:
        return None
    reading = reading_of(response)
    explained = reading.kind == "rejected" and reading.dialect in ("backend", "pydantic") and forbidden(case)
    assert explained, f"HTTP {response.status_code} for a request {_what(case)}: a server error, not a refusal"
    return None


def _what(case: Case[Any]) -> str:
    return "the contract rejects" if forbidden(case) else "the contract accepts"


def _broken(case: Case[Any]) -> tuple[str, ...]:
    body = decoded_body(case.body)
    if not isinstance(body, dict):
        return ("body",)
    return tuple(sorted(broken_fields(operation_id_of(case), body)))


REFUSAL_CHECKS = (
    refuses_what_the_contract_forbids,
    documented_status_code,
    documented_response_schema,
    no_unexplained_server_error,
)
