"""What a probe found: one row per request of the matrix, and the report they make as a table or JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from contracts.probe.cases import ABSENT
from contracts.spec.schema import SUBMIT, operation_path

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
    # Where the refusal was made (at once, in the job, at poll) and in which dialect (contracts.spec.dialects).
    where: str = ""
    dialect: str = ""
    # The API answered a request the contract forbids whatever the value under test (no required `poison`) as a
    # success: the worst drift, since a job may have started.
    poison_accepted: bool = False
    operation: str = SUBMIT  # the operation id: the submit, or the status read

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
            "operation": self.operation,
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
        poisons = ", ".join(dict.fromkeys(row.poison for row in self.rows if row.poison))
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


def _cells(row: ProbeRow) -> tuple[str, ...]:
    value = "(absent)" if row.value is ABSENT else json.dumps(row.value)
    answer = "no HTTP answer" if row.observed_status is None else f"{row.observed_status} {row.observed_error or ''}"
    # Where the contract's own refusal is made, saying so adds nothing; elsewhere it is the point.
    where = f"{row.where}, {row.dialect}, " if row.dialect not in ("", "contract") else ""
    observed = f"{row.observed} ({where}{answer.strip()})"
    field = row.field if row.operation == SUBMIT else f"{operation_path(row.operation)} {row.field}"
    return (field, row.rule, _short(value), row.expected, _short(observed), row.verdict)


def _short(text: str) -> str:
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"
