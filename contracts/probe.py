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

Usage:
    report = run_probe(Target("http://127.0.0.1:8000", token="sk-test"))
    print(report.table())
    sys.exit(1 if report.drifted else 0)
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx

from contracts._probe_cases import ABSENT, ProbeCase, ProbeError, base_body, contract_accepts, probe_cases
from contracts.schema import SUBMIT, operation_path
from contracts.target import Target

__all__ = ["ABSENT", "ProbeError", "ProbeReport", "ProbeRow", "run_probe"]

Observation = Literal["accept", "reject", "error"]
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
    named: tuple[str, ...] = ()
    note: str = ""
    # The API answered a request the contract forbids whatever the value under test (no required `poison`) as a
    # success: the worst drift, since a job may have started.
    poison_accepted: bool = False

    @property
    def drifted(self) -> bool:
        return self.poison_accepted or self.observed != self.expected or bool(self.note)

    @property
    def verdict(self) -> str:
        if self.poison_accepted:
            return f"DRIFT: accepted a request with a missing required field ({self.poison})"
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

    @property
    def drifted(self) -> bool:
        return any(row.drifted for row in self.rows)

    def table(self) -> str:
        header = ("field", "rule", "value", "expected", "observed", "verdict")
        lines = [header, *(_cells(row) for row in self.rows)]
        widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
        text = ["  ".join([*map(str.ljust, line[:-1], widths), line[-1]]) for line in lines]
        poisons = ", ".join(dict.fromkeys(row.poison for row in self.rows))
        legend = (
            f"Each request also leaves out a required field ({poisons}) so that none can start a job;"
            ' "accept" means the rejection named only that field.'
        )
        return "\n".join([*text, "", legend, self._summary()])

    def to_json(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "drifted": self.drifted,
            "rows": [row.to_json() for row in self.rows],
            "drifted_rows": sum(row.drifted for row in self.rows),
            "stopped": self.stopped,
            "planned": self.planned,
        }

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
) -> ProbeReport:
    """Send the matrix to `target` in order, `min_interval` seconds apart, and compare with the contract.

    Stops early (`stopped` says why) when a poisoned request is accepted, since the
    poison then no longer guarantees that no job starts, and when the target refuses the token or
    stops answering, since nothing more can be learned.

    Example:
        report = run_probe(target, transport=QolabaMock(app).transport())
        assert not report.drifted, report.table()
    """
    base, path = base_body(), operation_path(SUBMIT)
    rows: list[ProbeRow] = []
    stopped: str | None = None
    last_sent: float | None = None
    with httpx.Client(
        base_url=target.base_url, transport=transport, timeout=timeout, headers=target.auth_headers
    ) as client:
        for case in probe_cases():
            if stopped is not None:
                break
            body = case.body(base)
            if contract_accepts(body):  # the last guard before the wire; the poison makes this unreachable
                raise ProbeError(f"refusing to send a request the contract accepts: {body}")
            if last_sent is not None and min_interval > 0:
                time.sleep(max(0.0, last_sent + min_interval - time.monotonic()))
            last_sent = time.monotonic()
            try:
                response = client.post(path, json=body)
            except httpx.HTTPError as exc:
                row = _row(case, None, None, "error", note=target.redact(f"no answer: {type(exc).__name__}: {exc}"))
            else:
                row = _observe(case, response, target)
            rows.append(row)
            stopped = _stop_reason(row)
    return ProbeReport(target.redact(target.base_url), tuple(rows), stopped=stopped, planned=len(probe_cases()))


def _observe(case: ProbeCase, response: httpx.Response, target: Target) -> ProbeRow:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    error = target.redact(error) if isinstance(error, str) else None
    status = response.status_code
    named = tuple(target.redact(name) for name in _named_fields(body))
    wrong_code = f"HTTP {status} where the contract says 422" if status != 422 else ""
    if not named:
        # No list of broken rules: a success (no `error`, not FAILED) means the API took the poisoned request.
        failed = isinstance(body, dict) and (body.get("status") == "FAILED" or error is not None)
        if 200 <= status < 300 and not failed:
            return _row(case, status, error, "accept", poison_accepted=True)
        return _row(case, status, error, "error", note=wrong_code or "the 422 named no field")
    if case.field in named:
        return _row(case, status, error, "reject", named=named, note=wrong_code)
    if case.poison in named:
        return _row(case, status, error, "accept", named=named, note=wrong_code)
    note = f"the answer named neither {case.field} nor the removed field {case.poison}"
    return _row(case, status, error, "error", named=named, note="; ".join(filter(None, (note, wrong_code))))


def _named_fields(body: Any) -> list[str]:
    # The contract's list of {field, message}, and also the 2024 backend's {"errors": [...]} and FastAPI's default
    # {"detail": [{"loc": [...]}]}: a changed error shape still yields the bounds (`contract` checks the shape).
    if not isinstance(body, dict):
        return []
    entries = body.get("error_data")
    if isinstance(entries, dict):
        entries = entries.get("errors")
    if isinstance(entries, list):
        return [str(e["field"]) for e in entries if isinstance(e, dict) and "field" in e]
    detail = body.get("detail")
    if isinstance(detail, list):
        return [
            str(e["loc"][-1]) for e in detail if isinstance(e, dict) and isinstance(e.get("loc"), list) and e["loc"]
        ]
    return []


def _row(case: ProbeCase, status: int | None, error: str | None, observed: Observation, **details: Any) -> ProbeRow:
    return ProbeRow(**asdict(case), observed_status=status, observed_error=error, observed=observed, **details)


def _stop_reason(row: ProbeRow) -> str | None:
    if row.poison_accepted:
        return "the API accepted a request with a required field missing, so further probes might start jobs"
    if row.observed_status == 401:
        return "the API refused the token (401)"
    if row.observed_status is None:
        return "the API did not answer"
    return None


def _cells(row: ProbeRow) -> tuple[str, ...]:
    value = "(absent)" if row.value is ABSENT else json.dumps(row.value)
    answer = "no HTTP answer" if row.observed_status is None else f"{row.observed_status} {row.observed_error or ''}"
    observed = f"{row.observed} ({answer.strip()})"
    return (row.field, row.rule, _short(value), row.expected, _short(observed), row.verdict)


def _short(text: str) -> str:
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"
