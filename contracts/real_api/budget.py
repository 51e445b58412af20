"""The GPU budget of a test run against the real API: which requests can start a job, and how many may go.

A submit whose body the contract accepts starts real (billed) work in production, queued (`celery: true`) or
sync. Each one is counted, per test, before it is sent; once the run's `max_spend` is used, the next is refused
before any byte leaves. A sync submit holds a generation open on a connection that may time out, so it is
refused unless the run allows it. What the contract rejects costs nothing and is never counted.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from contracts.spec.schema import SUBMIT, operation_of
from contracts.spec.strict_json import InvalidJson, parse_value
from contracts.spec.validators import request_validator

DEFAULT_MAX_SPEND = 5
_CELERY = "celery"


class SpendRefused(Exception):
    """A request that could start a GPU job and that the run's budget does not allow; one line."""


def starts_a_job(method: str, path: str, content: bytes) -> dict[str, Any] | None:
    """The submit's body when this request can start a GPU job (a POST to the submit path the contract accepts),
    else None."""
    if method.upper() != "POST" or operation_of(path) != SUBMIT:
        return None
    try:
        body = parse_value(content)
    except InvalidJson:
        return None
    if not isinstance(body, dict) or not request_validator(SUBMIT).is_valid(body):
        return None
    return body


@dataclass
class Budget:
    """The run's budget: at most `max_spend` valid submits in all, sync ones only if `allow_sync`.

    Usage:
        budget = Budget(max_spend=5)
        budget.charge("tests/test_x.py::test_submit", "POST", "/api/v1/studio/getImagetoImage", body)
        budget.spent  # {"tests/test_x.py::test_submit": 1}
    """

    max_spend: int = DEFAULT_MAX_SPEND
    allow_sync: bool = False
    spent: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def total(self) -> int:
        return sum(self.spent.values())

    def charge(self, test: str, method: str, path: str, content: bytes) -> None:
        """Count this request against the budget if it can start a job; SpendRefused if it may not go."""
        body = starts_a_job(method, path, content)
        if body is None:
            return
        with self._lock:
            if body.get(_CELERY) is not True and not self.allow_sync:
                self.refused[test] += 1
                raise SpendRefused(
                    "refused before sending: a sync submit (celery not true) holds a GPU job open on the connection;"
                    " send celery: true, or allow it with --qolaba-allow-sync"
                )
            if self.total >= self.max_spend:
                self.refused[test] += 1
                raise SpendRefused(
                    f"refused before sending: --qolaba-max-spend {self.max_spend} reached"
                    f" ({self.total} valid submit(s) sent this run); raise it to spend more"
                )
            self.spent[test] += 1
