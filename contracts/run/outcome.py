"""What a contract run found: per-check tallies, distinct failures with a curl line each, and run errors.

Plain data, filled by the runner and read by the reports, so a report never needs schemathesis.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

CONFORMS, VIOLATIONS, UNUSABLE = 0, 1, 2


@dataclass(frozen=True)
class FailureRecord:
    operation: str  # e.g. "POST /getImagetoImage"
    check: str
    title: str
    message: str
    curl: str  # token already replaced by $TOKEN
    status_code: int | None = None
    response_excerpt: str = ""
    phase: str = ""
    # What makes two failures the same, when the message quotes each answer (a schema violation: where in the
    # schema and the answer it broke); empty means the message itself.
    sameness: str = ""
    # The reproduce line sends the run's token with a submit the contract accepts: pasted, it starts a GPU job.
    costs_a_job: bool = False

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.operation, self.check, self.title, self.sameness or self.message)


@dataclass
class RunOutcome:
    base_url: str
    mode: str
    checks: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, check) -> cases checked
    failing: Counter[tuple[str, str]] = field(default_factory=Counter)  # (operation, check) -> cases failed
    failures: dict[tuple[str, str, str, str], FailureRecord] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # could not test: connection, config, a crashed phase
    requests: int = 0
    valid_requests: int = 0  # submits the contract accepts, i.e. GPU jobs started
    refused: int = 0  # generated valid submits the spend guard kept off the wire
    tasks_polled: int = 0
    # Valid submits answered without a task to poll, by how: "HTTP 401 Not authenticated" -> count.
    answered_at_once: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    unreachable: bool = False
    # How requests the contract rejects were refused: (operation, fields broken, how) -> count.
    refusals: Counter[tuple[str, tuple[str, ...], str]] = field(default_factory=Counter)

    def tally(self, operation: str, check: str, *, failed: bool) -> None:
        self.checks[(operation, check)] += 1
        if failed:
            self.failing[(operation, check)] += 1

    def refused_as(self, operation: str, fields: tuple[str, ...], how: str) -> None:
        self.refusals[(operation, fields, how)] += 1

    def add_failure(self, failure: FailureRecord) -> None:
        self.failures.setdefault(failure.key, failure)

    @property
    def exit_code(self) -> int:
        if self.unreachable or (self.errors and not self.failures):
            return UNUSABLE
        return VIOLATIONS if self.failures else CONFORMS

    @property
    def verdict(self) -> str:
        return {CONFORMS: "conforms", VIOLATIONS: "violations found", UNUSABLE: "could not check"}[self.exit_code]

    def rows(self) -> list[tuple[str, str, int, int]]:
        """(operation, check, cases, failures), sorted for a stable table."""
        return [(op, check, cases, self.failing[(op, check)]) for (op, check), cases in sorted(self.checks.items())]
