"""`run_contract`: schemathesis's engine against a base URL (or an app in-process), under a spend guard.

The plan follows the mode:
- free: negative cases only, and of those only the ones refused before any job (a broken credential, a body that
  is no JSON object, a field the backend checks before invoking a job): nothing reaches a GPU worker.
- safe: negative cases only (examples, coverage, fuzzing); any case the contract would accept is dropped. A
  backend that checks body fields inside the job still invokes one to refuse them (no image is made), and one
  that accepts what the contract rejects (production coerces "2" to 2) runs those jobs.
- full, no cap (the default on loopback): every phase, positive and negative, with `celery: true`.
- full, capped by `max_spend`: the safe pass, then a spend pass of at most `max_spend` valid submits
  (the documented example, then positive fuzzing without shrinking, since a shrink would re-send).
Queued tasks are polled to a terminal state at the end, all at once, and their final answers checked.
"""

from __future__ import annotations

import dataclasses
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import schemathesis
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup
from schemathesis.engine import StopReason, events, from_schema
from schemathesis.specs.openapi.checks import content_type_conformance

from contracts import checks, refusal_checks
from contracts.lifecycle import Poll, PollSettings, poll_until_terminal
from contracts.outcome import FailureRecord, RunOutcome
from contracts.reproduce import FollowupFailed, curl_line, excerpt
from contracts.safety import Mode, SpendGuard, SpendRefused, guarded, starts_a_job
from contracts.schema import STATUS, load_schema
from contracts.target import Target

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

ALL_PHASES = ("examples", "coverage", "fuzzing", "stateful")
REJECTED_ONLY_PHASES = ("examples", "coverage", "fuzzing")
# Run on each queued task's final answer: with `celery: true` forced, the only place a full run sees images.
FINAL_ANSWER_CHECKS = (
    refusal_checks.documented_response_schema,
    refusal_checks.documented_status_code,
    content_type_conformance,
    *checks.ANSWER_CHECKS,
)


@dataclass(frozen=True)
class RunOptions:
    mode: Mode = "safe"
    max_examples: int = 20
    max_spend: int | None = 3
    rate_limit: str | None = None
    request_timeout: float = 30.0
    task_timeout: float = 300.0
    poll_interval: float = 2.0
    seed: int = 0
    # Also send valid /getImage reads when nothing else would: they start no job, and show PENDING answers.
    status_reads: bool = False


def run_contract(target: Target, options: RunOptions, *, app: Any = None) -> RunOutcome:
    """Check `target` against the contract; `app` runs it in-process against an ASGI app instead of a socket."""
    outcome = RunOutcome(base_url=target.base_url, mode=options.mode)
    started = time.monotonic()
    queued: list[tuple[Case[Any], Response]] = []
    for run_pass in _passes(options):
        schema = _schema(target, options, app, run_pass)
        with (
            guarded(schema, run_pass.guard),
            checks.deferred_task_polling(schema, lambda c, r: queued.append((c, r))),
            refusal_checks.recording_refusals(schema, outcome.refused_as),
        ):
            _run_engine(schema, target, outcome)
        checks.forget_run(schema)
        outcome.valid_requests += run_pass.guard.spent
        outcome.refused += run_pass.guard.refused
    _poll_queued(queued, target, options, outcome)
    outcome.seconds = time.monotonic() - started
    return outcome


@dataclass(frozen=True)
class _Pass:
    """One engine run: which cases it generates, and the guard that decides which of them are sent."""

    guard: SpendGuard
    modes: tuple[GenerationMode, ...]
    phases: tuple[str, ...]
    max_examples: int
    operation_id: str | None = None  # None: every operation


def _passes(options: RunOptions) -> list[_Pass]:
    if options.mode == "free":
        # Negative cases only, and of those only the ones refused before any job; every status read is free.
        return [_Pass(SpendGuard("free"), (GenerationMode.NEGATIVE,), REJECTED_ONLY_PHASES, options.max_examples)]
    if options.mode == "full" and options.max_spend is None:
        both = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        return [_Pass(SpendGuard("full"), both, ALL_PHASES, options.max_examples)]
    rejected_only = _Pass(SpendGuard("safe"), (GenerationMode.NEGATIVE,), REJECTED_ONLY_PHASES, options.max_examples)
    passes = [rejected_only]
    if options.status_reads:
        reads = SpendGuard("safe", status_reads=True)
        positive = (GenerationMode.POSITIVE,)
        passes.append(_Pass(reads, positive, REJECTED_ONLY_PHASES, options.max_examples, operation_id=STATUS))
    if options.mode == "safe" or not options.max_spend:
        return passes
    # The documented example spends one job; positive fuzzing spends the rest, one case per example.
    spend_phases = ("examples", "fuzzing") if options.max_spend > 1 else ("examples",)
    spend_guard = SpendGuard("full", max_spend=options.max_spend)
    spend = _Pass(spend_guard, (GenerationMode.POSITIVE,), spend_phases, max(options.max_spend - 1, 1))
    return [*passes, spend]


def _schema(target: Target, options: RunOptions, app: Any, run_pass: _Pass) -> Any:
    schema: Any = schemathesis.openapi.from_dict(load_schema())
    if run_pass.operation_id is not None:
        schema = schema.include(operation_id=run_pass.operation_id)
    if app is not None:
        schema.app = app
    schema.config.update(
        base_url=target.base_url,
        headers=target.auth_headers,
        rate_limit=options.rate_limit,
        request_timeout=options.request_timeout,
        # A drift report lists every broken rule, not the first one per operation.
        continue_on_failure=True,
    )
    # schemathesis's own refusal checks expect the contract's dialect; the contract's replace them.
    schema.config.checks.update(excluded_check_names=list(refusal_checks.REPLACED))
    schema.config.seed = options.seed
    # No shrinking: a shrink re-sends, which would spend again; no database: nothing written to disk.
    schema.config.generation.update(
        modes=list(run_pass.modes),
        max_examples=run_pass.max_examples,
        deterministic=True,
        database="none",
        no_shrink=True,
    )
    schema.config.phases.update(phases=list(run_pass.phases))
    # The contract declares its one link. Link inference scans answers for URLs and crashes on an echoed
    # `http://[` (a string negative cases put in `image`), so it is switched off rather than worked around.
    schema.config.phases.stateful.inference.algorithms = []
    return schema


def _run_engine(schema: Any, target: Target, outcome: RunOutcome) -> None:
    for event in from_schema(schema).execute():
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            _record(event.recorder, target, outcome, phase=str(getattr(event, "phase", "fuzzing")))
        elif isinstance(event, events.NonFatalError):
            if _is_spend_refusal(event.value):
                outcome.refused += 1
                continue
            outcome.errors.append(target.redact(f"{event.label}: {event.info.title}: {_first_line(event.info)}"))
        elif isinstance(event, events.FatalError):
            outcome.errors.append(target.redact(f"fatal: {event.exception}"))
        elif isinstance(event, events.EngineFinished) and event.stop_reason == StopReason.SERVER_UNAVAILABLE:
            outcome.unreachable = True
            outcome.errors.append(f"{target.base_url} stopped responding")


def _is_spend_refusal(error: BaseException) -> bool:
    while error is not None:
        if isinstance(error, SpendRefused):
            return True
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return False


def _first_line(info: Any) -> str:
    return str(info.message).strip().splitlines()[0] if str(info.message).strip() else ""


def _record(recorder: Any, target: Target, outcome: RunOutcome, *, phase: str) -> None:
    outcome.requests += len(recorder.interactions)
    for case_id, nodes in recorder.checks.items():
        node = recorder.cases.get(case_id)
        if node is None:
            continue
        case = node.value
        for check in nodes:
            failed = check.failure_info is not None
            outcome.tally(case.operation.label, check.name, failed=failed)
            if failed:
                interaction = recorder.interactions.get(case_id)
                response = interaction.response if interaction is not None else None
                failure = check.failure_info.failure
                followup = getattr(failure, "exception", None)
                if isinstance(followup, FollowupFailed):
                    outcome.add_failure(_followup_failure(case, check.name, failure.title, followup, target, phase))
                    continue
                record = _failure(case, check.name, failure.title, failure.message, response, target, phase)
                outcome.add_failure(dataclasses.replace(record, sameness=_sameness(failure)))


def _sameness(failure: Any) -> str:
    # A schema violation quotes the answer, which differs case by case; where it broke the schema does not.
    schema_path = getattr(failure, "schema_path", None)
    if schema_path is None:
        return ""
    return f"{'/'.join(map(str, schema_path))} at /{'/'.join(map(str, getattr(failure, 'instance_path', ())))}"


def _failure(
    case: Case[Any], check: str, title: str, message: str, response: Any, target: Target, phase: str
) -> FailureRecord:
    return FailureRecord(
        operation=case.operation.label,
        check=check,
        title=target.redact(str(title)),
        message=target.redact(str(message)),
        curl=curl_line(case, target),
        status_code=response.status_code if response is not None else None,
        response_excerpt=target.redact(excerpt(response)),
        phase=phase,
        costs_a_job=starts_a_job(case),
    )


def _followup_failure(
    case: Case[Any], check: str, title: str, followup: FollowupFailed, target: Target, phase: str
) -> FailureRecord:
    # The failure is about the answer to a request the check sent itself: show that request and that answer.
    return FailureRecord(
        operation=case.operation.label,
        check=check,
        title=target.redact(str(title)),
        message=target.redact(followup.reason),
        curl=target.redact(followup.curl),
        status_code=followup.status_code,
        response_excerpt=target.redact(followup.excerpt),
        phase=phase,
    )


def _poll_queued(
    queued: list[tuple[Case[Any], Response]], target: Target, options: RunOptions, out: RunOutcome
) -> None:
    settings = PollSettings(deadline=options.task_timeout, interval=options.poll_interval)
    with ThreadPoolExecutor(max_workers=8) as pool:
        polls = list(pool.map(lambda item: (item[0], poll_until_terminal(item[0], item[1], settings)), queued))
    out.tasks_polled = len(polls)
    out.requests += sum(poll.polls for _, poll in polls)
    check = checks.queued_task_reaches_terminal_state.__name__
    for submit_case, poll in polls:
        finished = poll.reached_terminal_state
        out.tally(submit_case.operation.label, check, failed=not finished)
        if not finished:
            message = checks.describe_unfinished(poll.task_id, poll.status, poll.waited, poll.error)
            out.add_failure(_failure(submit_case, check, "Queued task never finished", message, None, target, "poll"))
        elif poll.response is not None and refusal_checks.forbidden(submit_case):
            _judge_at_poll(submit_case, poll, target, out)
        _check_final_answer(poll, target, out)


def _judge_at_poll(submit_case: Case[Any], poll: Poll, target: Target, out: RunOutcome) -> None:
    # A request the contract rejects was queued: its refusal, if any, is the task's final answer.
    assert poll.response is not None
    check = refusal_checks.refuses_what_the_contract_forbids.__name__
    with refusal_checks.recording_refusals(submit_case.operation.schema, out.refused_as):
        try:
            refusal_checks.judge_refusal(submit_case, refusal_checks.reading_of(poll.response, polled=True))
            out.tally(submit_case.operation.label, check, failed=False)
        except AssertionError as exc:
            out.tally(submit_case.operation.label, check, failed=True)
            title = "A request the contract rejects was accepted"
            out.add_failure(_failure(submit_case, check, title, str(exc), poll.response, target, "poll"))


def _check_final_answer(poll: Poll, target: Target, out: RunOutcome) -> None:
    if poll.case is None or poll.response is None:
        return
    label = poll.case.operation.label
    for check in FINAL_ANSWER_CHECKS:
        try:
            poll.case.validate_response(poll.response, checks=[check])
            out.tally(label, check.__name__, failed=False)
        except FailureGroup as group:
            out.tally(label, check.__name__, failed=True)
            for failure in group.exceptions:
                record = _failure(
                    poll.case, check.__name__, failure.title, failure.message, poll.response, target, "poll"
                )
                out.add_failure(dataclasses.replace(record, sameness=_sameness(failure)))
