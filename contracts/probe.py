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
dialect (`contracts.dialects`). The backend checks body fields inside the GPU job: a probe that reaches
it invokes a job (no image is made). `free=True` breaks a field checked before any job instead, so no probe
reaches a GPU; rules checked in the job then read "not reached".

Usage:
    report = run_probe(Target("http://127.0.0.1:8000", token="sk-test"))
    print(report.table())
    sys.exit(1 if report.drifted else 0)
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx

from contracts._probe_cases import ABSENT, ProbeCase, ProbeError, base_body, contract_accepts, probe_cases
from contracts.dialects import Reading, breaks_request_model, read_answer, request_level_fields
from contracts.schema import STATUS, SUBMIT, operation_path
from contracts.target import Target

__all__ = ["ABSENT", "ProbeError", "ProbeReport", "ProbeRow", "run_probe"]

Observation = Literal["accept", "reject", "error", "not reached"]
_CELL_WIDTH = 48


@dataclass(frozen=True)
class ProbeRow:
    """One probe: what was sent for `field`, what the contract expects, what the API answered.

    `value` is the JSON value sent, or `ABSENT` when the field was left out. `poison` is the other
    required field left out of the same request, `named` the fields the API's rejection listed,
    `note` what else went wrong (an `error` observation, or a status code other than 422).
    """

    field: str
    rule: str
    value: Any
    expected: Literal["accept", "reject"]
    observed_status: int | None
    observed_error: str | None
    observed: Observation
    source: str
    poison: str = ""
    poison_value: Any = ABSENT
    named: tuple[str, ...] = ()
    note: str = ""
    # Where the refusal was made (at once, in the job, at poll) and in which dialect (contracts.dialects).
    where: str = ""
    dialect: str = ""
    # The API answered a request the contract forbids whatever the value under test (no required `poison`) as a
    # success: the worst drift, since a job may have started.
    poison_accepted: bool = False

    @property
    def drifted(self) -> bool:
        if self.observed == "not reached":
            return False
        return self.poison_accepted or self.observed != self.expected or bool(self.note)

    @property
    def verdict(self) -> str:
        if self.poison_accepted:
            also = f"; {self.note}" if self.note else ""
            return f"DRIFT: accepted a request with a missing required field ({self.poison}){also}"
        if self.observed == "not reached":
            return "not reached: refused before the job that checks it"
        found = [self.note] if self.note else []
        if self.observed not in ("error", self.expected):
            did = "accepted" if self.observed == "accept" else "rejected"
            found.insert(0, f"{did} a value the contract {self.expected}s")
        return "DRIFT: " + "; ".join(found) if found else "ok"

    def to_json(self) -> dict[str, Any]:
        absent = self.value is ABSENT
        return {
            "field": self.field,
            "rule": self.rule,
            "value": None if absent else self.value,
            "absent": absent,
            "expected": self.expected,
            "observed": self.observed,
            "observed_status": self.observed_status,
            "observed_error": self.observed_error,
            "error_fields": list(self.named),
            "where": self.where,
            "dialect": self.dialect,
            "poisoned_field": self.poison,
            "source": self.source,
            "drifted": self.drifted,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class ProbeReport:
    """Every row of one probe run. `stopped` says why the run ended before all `planned` probes were sent."""

    base_url: str
    rows: tuple[ProbeRow, ...]
    stopped: str | None = None
    planned: int = 0
    free: bool = False

    @property
    def drifted(self) -> bool:
        return any(row.drifted for row in self.rows)

    def table(self) -> str:
        header = ("field", "rule", "value", "expected", "observed", "verdict")
        lines = [header, *(_cells(row) for row in self.rows)]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        text = ["  ".join([*map(str.ljust, line[:-1], widths), line[-1]]) for line in lines]
        poisons = ", ".join(dict.fromkeys(row.poison for row in self.rows))
        if self.free:
            legend = (
                f"Free mode: each request also sets a field the backend checks before any job ({poisons}) to a value"
                ' it refuses, so none reaches a GPU worker; rules checked later, in the job, read "not reached".'
            )
        else:
            legend = (
                f"Each request also leaves out a required field ({poisons}) so that none can make an image;"
                ' "accept" means the refusal named only that field. A backend that checks fields inside the GPU'
                " job (production does) still invokes a job to refuse it; --mode free invokes none."
            )
        return "\n".join([*text, "", legend, self._where(), self._summary()])

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "drifted": self.drifted,
            "rows": [row.to_json() for row in self.rows],
            "drifted_rows": sum(row.drifted for row in self.rows),
            "stopped": self.stopped,
            "planned": self.planned,
            "free": self.free,
        }

    def _where(self) -> str:
        """How the refusals the contract expects were made: at once, in the job, at poll, in which dialect."""
        refused = [row for row in self.rows if row.expected == "reject" and row.observed == "reject"]
        counts: dict[str, int] = {}
        for row in refused:
            how = f"{row.where} ({row.dialect or 'contract'})"
            counts[how] = counts.get(how, 0) + 1
        unseen = sum(row.observed == "not reached" for row in self.rows)
        parts = [f"{count} {how}" for how, count in sorted(counts.items())] or ["none"]
        also = f"; {unseen} not reached" if unseen else ""
        return f"refusals the contract expects, as made: {', '.join(parts)}{also}"

    def _summary(self) -> str:
        drifted = sum(row.drifted for row in self.rows)
        verdict = f"{drifted} drifted from the contract" if drifted else "every documented bound holds"
        summary = f"{len(self.rows)} probes against {self.base_url}: {verdict}"
        return (
            f"{summary}; stopped after {len(self.rows)} of {self.planned}: {self.stopped}" if self.stopped else summary
        )


def run_probe(
    target: Target,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 30.0,
    min_interval: float = 0.0,
    free: bool = False,
    task_timeout: float = 300.0,
    poll_interval: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> ProbeReport:
    """Send the matrix to `target` in order, `min_interval` seconds apart, and compare with the contract.

    A probe answered as a queued task is polled (every `poll_interval` s, up to `task_timeout` s) to learn how
    it ended. Stops early (`stopped` says why) when a poisoned request is accepted, since the poison then no
    longer guarantees that no job starts, and when the target refuses the token or stops answering, since
    nothing more can be learned.

    Example:
        report = run_probe(target, transport=QolabaMock(app).transport())
        assert not report.drifted, report.table()
    """
    base, path = base_body(), operation_path(SUBMIT)
    cases = probe_cases(free=free)
    rows: list[ProbeRow] = []
    stopped: str | None = None
    last_sent: float | None = None
    with httpx.Client(
        base_url=target.base_url, transport=transport, timeout=timeout, headers=target.auth_headers
    ) as client:
        poller = _Poller(client, task_timeout, poll_interval, sleep)
        for case in cases:
            if stopped is not None:
                break
            body = case.body(base)
            if contract_accepts(body):  # the last guard before the wire; the poison makes this unreachable
                raise ProbeError(f"refusing to send a request the contract accepts: {body}")
            if last_sent is not None and min_interval > 0:
                sleep(max(0.0, last_sent + min_interval - time.monotonic()))
            last_sent = time.monotonic()
            try:
                response = client.post(path, json=body)
                reading = poller.follow(read_answer(response.status_code, _json(response)), response)
            except httpx.HTTPError as exc:
                row = _row(case, None, None, "error", note=target.redact(f"no answer: {type(exc).__name__}: {exc}"))
            else:
                row = _judge(case, reading, target)
            rows.append(row)
            stopped = _stop_reason(row)
    return ProbeReport(target.redact(target.base_url), tuple(rows), stopped=stopped, planned=len(cases), free=free)


class _Poller:
    """Follows a probe that was queued to the answer its task ends with."""

    def __init__(self, client: httpx.Client, timeout: float, interval: float, sleep: Callable[[float], None]) -> None:
        self.client, self.timeout, self.interval, self.sleep = client, timeout, interval, sleep

    def follow(self, reading: Reading, response: httpx.Response) -> Reading:
        if reading.kind != "queued":
            return reading
        task_id = _json(response)["task_id"]
        waited = 0.0
        while True:
            polled = self.client.post(operation_path(STATUS), json={"id": task_id})
            reading = read_answer(polled.status_code, _json(polled), polled=True)
            if reading.kind != "queued" and polled.status_code not in (429, 503):
                return reading
            # Counted in the waits asked for, not the clock: a test's injected `sleep` ends the wait as surely.
            if waited + self.interval > self.timeout:
                note = f"queued as task {task_id}, still unfinished after {waited:g} s"
                return Reading("queued", polled.status_code, error=note)
            self.sleep(self.interval)
            waited += self.interval


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
        if case.poison in named:
            return _row(case, status, error, "accept", named=named, note=wrong_code, **place)
        note = f"the answer named neither {case.field} nor the removed field {case.poison}"
        return _row(
            case, status, error, "error", named=named, note="; ".join(filter(None, (note, wrong_code))), **place
        )
    if reading.dialect == "backend":
        return _row(case, status, error, _request_level(case, reading), **place)
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


def _cells(row: ProbeRow) -> tuple[str, ...]:
    value = "(absent)" if row.value is ABSENT else json.dumps(row.value)
    answer = "no HTTP answer" if row.observed_status is None else f"{row.observed_status} {row.observed_error or ''}"
    # Where the contract's own refusal is made, saying so adds nothing; elsewhere it is the point.
    where = f"{row.where}, {row.dialect}, " if row.dialect not in ("", "contract") else ""
    observed = f"{row.observed} ({where}{answer.strip()})"
    return (row.field, row.rule, _short(value), row.expected, _short(observed), row.verdict)


def _short(text: str) -> str:
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"
