"""The boundary conformance matrix: does an API still enforce every documented bound of the submit request?

For each bound of each field the probe sends the value on it and the value just past it (every enum
member and a near miss, a URL and a non-URL, the field left out, a wrong JSON type) and compares what
the API does with what the contract says it must do.

Why no probe can start a GPU job ("poison"): every request also leaves out a second required field.
The contract says such a request must be rejected, whatever the value under test, so production
answers 422 and nothing is generated. It still tells us about the value under test because the API
lists every broken rule in `error_data`, not just the first (PRODUCT.md; pydantic collects them all):
the field under test named there means "rejected", only the removed field named means "accepted".
If an API ever listed only some broken rules, accepted values would still read right, and a rejected
value hidden behind the removed field would read as accepted: reported as drift, never missed silently.

The API may refuse in another dialect than the contract's, and later (docs/fidelity.md): FastAPI's `detail`
list, a 500 from the backend's exception handler, or pydantic's text from inside the job, in a sync answer
or when the queued probe is polled. Each counts as a refusal; a row says where it was made and in which
dialect (`contracts.spec.dialects`). The backend checks body fields inside the GPU job: a probe that reaches
it invokes a job (no image is made). `free=True` breaks a field checked before any job instead, so no probe
reaches a GPU; rules checked in the job then read "not reached".

Usage:
    report = run_probe(Target("http://127.0.0.1:8000", token="sk-test"), Pacing(min_interval=0.5))
    print(report.table())
    sys.exit(1 if report.drifted else 0)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import httpx

from contracts.client.pacing import Pacing, Spacer
from contracts.client.polling import Poll, PollSettings, follow_task, httpx_answer, status_link
from contracts.client.progress import Progress, Silent
from contracts.client.target import Target
from contracts.probe.cases import (
    ABSENT,
    ProbeCase,
    ProbeError,
    base_body,
    contract_accepts,
    probe_cases,
    status_probe_cases,
)
from contracts.probe.report import Observation, ProbeReport, ProbeRow
from contracts.spec.dialects import Reading, breaks_request_model, read_answer, request_level_fields
from contracts.spec.schema import STATUS, SUBMIT, operation_path

__all__ = ["ABSENT", "Pacing", "ProbeError", "ProbeReport", "ProbeRow", "run_probe"]


def run_probe(
    target: Target,
    pacing: Pacing | None = None,
    *,
    free: bool = False,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], object] = time.sleep,
    progress: Progress | None = None,
) -> ProbeReport:
    """Send the matrix to `target` in order, paced as `pacing` says (by default: no pause); compare with the contract.

    A probe answered as a queued task is polled (`contracts.client.polling`: every `pacing.poll_interval` s, up to
    `pacing.task_timeout` s) to learn how it ended. Stops early (`stopped` says why) when a poisoned request is
    accepted, since the poison then no longer guarantees that no job starts, and when the target refuses the
    token or stops answering, since nothing more can be learned. `transport` reaches the target (an in-process
    fake's, say); `sleep` waits between requests and polls; `progress` hears of the run as it begins and of
    each probe as it is sent.

    Example:
        report = run_probe(target, transport=QolabaMock(app).transport())
        assert not report.drifted, report.table()
    """
    cases = (*probe_cases(free=free), *status_probe_cases())
    pacing, progress = pacing or Pacing(), progress or Silent()
    progress.phase(f"probe: {len(cases)} requests, each one the contract refuses")
    rows: list[ProbeRow] = []
    stopped: str | None = None
    spacer = Spacer(pacing.min_interval, sleep)
    with httpx.Client(
        base_url=target.base_url, transport=transport, timeout=pacing.request_timeout, headers=target.auth_headers
    ) as client:
        poller = _Poller(client, pacing.polling, sleep, progress)
        for number, case in enumerate(cases, start=1):
            if stopped is not None:
                break
            body = case.body(base_body(case.operation))
            if contract_accepts(body, case.operation):  # the last guard before the wire; unreachable by design
                raise ProbeError(f"refusing to send a request the contract accepts: {body}")
            spacer.wait_turn()
            label = f"probe: {number} of {len(cases)}: {case.field} {case.rule}"
            progress.step(label)
            try:
                response = client.post(operation_path(case.operation), json=body)
                reading = read_answer(response.status_code, _json(response))
                # A status read is never queued: a PENDING answer to it is the answer.
                reading = poller.follow(reading, response, label) if case.operation == SUBMIT else reading
            except (httpx.HTTPError, _PollsLost) as exc:
                row = _row(case, None, None, "error", note=target.redact(f"no answer: {type(exc).__name__}: {exc}"))
            else:
                row = _judge(case, reading, target)
            rows.append(row)
            stopped = _stop_reason(row)
    progress.done()
    return ProbeReport(target.redact(target.base_url), tuple(rows), stopped=stopped, planned=len(cases), free=free)


class _PollsLost(Exception):
    """Every poll of a queued probe, up to the loop's limit, was lost to the network."""


class _Poller:
    """Follows a probe that was queued to the answer its task ends with."""

    def __init__(
        self, client: httpx.Client, settings: PollSettings, sleep: Callable[[float], object], progress: Progress
    ) -> None:
        self.client, self.settings, self.sleep, self.progress = client, settings, sleep, progress

    def follow(self, reading: Reading, response: httpx.Response, label: str) -> Reading:
        if reading.kind != "queued":
            return reading
        queued = response.json()
        request = status_link().request_for(queued)

        def ask() -> httpx.Response:
            return self.client.post(operation_path(STATUS), json=request)

        def polling(poll: Poll[httpx.Response]) -> None:
            self.progress.step(f"{label}: polling queued task {poll.task_id}, {poll.waited:.0f} s so far")

        poll = follow_task(
            Poll[httpx.Response](str(queued["task_id"])),
            ask,
            httpx_answer,
            self.settings,
            sleep=self.sleep,
            before_each=polling,
        )
        if poll.response is None or poll.error is not None:
            raise _PollsLost(f"polls of queued task {poll.task_id}: {poll.error}")
        if poll.timed_out:
            last = f" (the last poll answered HTTP {poll.status_code} by the gateway)" if poll.status is None else ""
            note = f"queued as task {poll.task_id}, still unfinished after {poll.waited:.0f} s{last}"
            return Reading("queued", poll.response.status_code, error=note)
        return read_answer(poll.response.status_code, _json(poll.response), polled=True)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _judge(case: ProbeCase, reading: Reading, target: Target) -> ProbeRow:
    status = reading.status_code
    error = target.redact(reading.error) if reading.error else None
    named = tuple(target.redact(name) for name in reading.named)
    place = {"where": reading.where, "dialect": reading.dialect}
    if reading.refuses_credentials:
        return _row(case, status, error, "error", note=f"the API refused the token (HTTP {status})")
    if reading.kind in ("accepted", "queued"):
        if not case.poison:
            return _row(case, status, error, "accept")  # a status read: accepting it starts nothing
        # A success to a request the contract forbids whatever the value under test, or a task that never ended:
        # a job may have started.
        return _row(case, status, error, "accept", poison_accepted=True, note=reading.error or "")
    if reading.kind != "rejected":
        if reading.kind == "failed":
            note = f"the job failed for another reason: {error}"
        else:
            note = f"HTTP {status} where the contract says 422" if status != 422 else "the 422 named no field"
        return _row(case, status, error, "error", note=target.redact(note))
    contract_422 = reading.dialect != "contract" or status == 422
    wrong_code = "" if contract_422 else f"HTTP {status} where the contract says 422"
    if named:
        if case.field in named:
            return _row(case, status, error, "reject", named=named, note=wrong_code, **place)
        if case.poison and case.poison in named:
            return _row(case, status, error, "accept", named=named, note=wrong_code, **place)
        removed = f" nor the removed field {case.poison}" if case.poison else ""
        note = f"the answer named neither {case.field}{removed}" if removed else f"the answer did not name {case.field}"
        return _row(
            case, status, error, "error", named=named, note="; ".join(filter(None, (note, wrong_code))), **place
        )
    if reading.dialect == "backend":
        # Its 500 names nothing; with nothing else broken (a status read), the field under test is what it refused.
        observed = _request_level(case, reading) if case.poison else "reject"
        return _row(case, status, error, observed, **place)
    return _row(case, status, error, "error", note=wrong_code or "the refusal named no field", **place)


def _request_level(case: ProbeCase, reading: Reading) -> Observation:
    """A 500 at once names nothing. "()": a field of the backend's request model broke it. "('<x>',)": the
    model passed and the app id <x> is unknown."""
    levels = request_level_fields()
    if case.field not in levels:
        # Refused before the job that checks this field (free mode); with a body-field poison it cannot be.
        return "not reached" if case.poison in levels else "error"
    poison_present = case.poison_value is not ABSENT
    if case.poison in levels and breaks_request_model(case.poison, case.poison_value, present=poison_present):
        return "not reached"  # the poison fails the same check: nothing is learned of the field under test
    if reading.error_data == "()":
        return "reject"
    if reading.error_data == repr((case.value,)):
        return "reject"  # the value under test is the app id the backend does not know
    # Only the poison's app id was unknown: the field under test passed.
    return "accept" if reading.error_data == repr((case.poison_value,)) else "error"


def _row(case: ProbeCase, status: int | None, error: str | None, observed: Observation, **details: Any) -> ProbeRow:
    return ProbeRow(**asdict(case), observed_status=status, observed_error=error, observed=observed, **details)


def _stop_reason(row: ProbeRow) -> str | None:
    if row.poison_accepted:
        return "the API accepted a request with a required field missing, so further probes might start jobs"
    if row.note.startswith("the API refused the token"):
        return row.note
    if row.observed_status is None:
        return "the API did not answer"
    return None
