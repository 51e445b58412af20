"""The queued tasks of a contract run: polled at its end, all at once, and their answers judged.

With `celery: true` forced on every valid submit, a task's final answer is the only place a full run sees
images; and a request the contract rejects that the API queued is refused, if at all, in that answer.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from contracts.client.extra import contract_extra_missing

try:  # the `contract` extra (contracts/client/extra.py)
    from schemathesis.core.failures import FailureGroup
    from schemathesis.specs.openapi.checks import content_type_conformance
except ModuleNotFoundError as missing:
    raise contract_extra_missing(missing, __name__) from None

from contracts.checks import refusal_checks, response_checks
from contracts.checks.followup_checks import describe_unfinished
from contracts.checks.run_registry import Run, run_over
from contracts.client.case_polling import CasePoll, poll_until_terminal
from contracts.client.polling import PollSettings
from contracts.client.progress import Progress
from contracts.client.target import Target
from contracts.run.failures import check_failure_record, failure_record
from contracts.run.outcome import RunOutcome

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

# Run on each task's last answer.
FINAL_ANSWER_CHECKS = (
    refusal_checks.documented_response_schema,
    refusal_checks.documented_status_code,
    content_type_conformance,
    *response_checks.ANSWER_CHECKS,
)
_PARALLEL_POLLS = 8


def poll_queued(
    queued: list[tuple[Case[Any], Response]],
    target: Target,
    settings: PollSettings,
    out: RunOutcome,
    progress: Progress,
) -> None:
    """Poll every queued task to its end (or `settings.deadline`), then judge how and where each ended."""
    if queued:
        progress.phase(
            f"contract: polling {len(queued)} queued tasks, each until it ends or {settings.deadline:g} s pass"
        )
    ended = itertools.count(1)

    def follow(item: tuple[Case[Any], Response]) -> tuple[Case[Any], CasePoll]:
        poll = poll_until_terminal(item[0], item[1], settings)
        how = f"{poll.status or poll.error or f'HTTP {poll.status_code}'} after {poll.waited:.0f} s"
        progress.step(f"contract: {next(ended)} of {len(queued)} queued tasks polled; the last {how} ({poll.task_id})")
        return item[0], poll

    with ThreadPoolExecutor(max_workers=_PARALLEL_POLLS) as pool:
        polls = list(pool.map(follow, queued))
    out.tasks_polled = len(polls)
    out.requests += sum(poll.polls for _, poll in polls)
    for submit_case, poll in polls:
        answer_failed = _check_final_answer(poll, target, out)
        _judge_the_end(submit_case, poll, answer_failed, target, out)


def _judge_the_end(
    submit_case: Case[Any], poll: CasePoll, answer_failed: bool, target: Target, out: RunOutcome
) -> None:
    check = response_checks.queued_task_reaches_terminal_state.__name__
    if poll.left_the_lifecycle and answer_failed:
        return  # the answer's own failures say what is wrong with it; how the task would have ended is unknown
    finished = poll.reached_terminal_state
    out.tally(submit_case.operation.label, check, failed=not finished)
    if not finished:
        title = "Queued task left the lifecycle" if poll.left_the_lifecycle else "Queued task never finished"
        message = describe_unfinished(poll)
        out.add_failure(failure_record(submit_case, check, title, message, None, target, "poll", task_started=True))
    elif poll.response is not None and refusal_checks.forbidden(submit_case):
        _judge_at_poll(submit_case, poll, target, out)


def _judge_at_poll(submit_case: Case[Any], poll: CasePoll, target: Target, out: RunOutcome) -> None:
    # A request the contract rejects was queued: its refusal, if any, is the task's final answer.
    assert poll.response is not None
    check = refusal_checks.refuses_what_the_contract_forbids.__name__
    with run_over(submit_case.operation.schema, Run(record_refusal=out.refused_as)):
        try:
            refusal_checks.judge_refusal(submit_case, refusal_checks.reading_of(poll.response, polled=True))
            out.tally(submit_case.operation.label, check, failed=False)
        except AssertionError as exc:
            out.tally(submit_case.operation.label, check, failed=True)
            title = "A request the contract rejects was accepted"
            record = failure_record(
                submit_case, check, title, str(exc), poll.response, target, "poll", task_started=True
            )
            out.add_failure(record)


def _check_final_answer(poll: CasePoll, target: Target, out: RunOutcome) -> bool:
    """Run the answer checks on the task's last answer; whether any failed."""
    if poll.case is None or poll.response is None:
        return False
    label, failed = poll.case.operation.label, False
    for check in FINAL_ANSWER_CHECKS:
        try:
            poll.case.validate_response(poll.response, checks=[check])
            out.tally(label, check.__name__, failed=False)
        except FailureGroup as group:
            failed = True
            out.tally(label, check.__name__, failed=True)
            for failure in group.exceptions:
                out.add_failure(check_failure_record(poll.case, check.__name__, failure, poll.response, target, "poll"))
    return failed
