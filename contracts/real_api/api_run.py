"""One pytest run against the real API: each test's client-side journal, with the budget in front of every
request and, behind every answer, the contract's checks and (optionally) the cassette.

The pytest plugin makes one `ApiRun` for a run under `--qolaba-target=api` and asks it for each test's
`ClientJournal`; what it gathers (spend, violations, cassette) makes the run's summary (summary.py).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx

from contracts.cassette.jsonl_writer import CassetteWriter
from contracts.real_api.budget import Budget, SpendRefused
from contracts.spec.schema import operation_of
from contracts.spec.strict_json import InvalidJson, parse_value
from contracts.traffic.proxy_recorder import CassetteRecorder
from contracts.traffic.upstream import Answer as UpstreamAnswer
from mockserver.testing.client_journal import Answer, ClientJournal

# Violation lines a run keeps to print; past this it only counts them.
MAX_VIOLATION_LINES = 200


@dataclass
class ApiRun:
    """The budget, checks and cassette of one run against the API at `base_url`.

    Usage:
        run = ApiRun("https://…/api/v1/studio", Budget(max_spend=5), record=Path("nightly.jsonl"))
        recorded = run.journal_for("tests/test_x.py::test_submit", on_refuse=fail)
        ...
        run.close()
    """

    base_url: str
    budget: Budget = field(default_factory=Budget)
    record: Path | None = None
    # The bearer token the tests send (kept out of repr, as contracts/client/target.py keeps it).
    token: str = field(default="", repr=False)
    exchanges: Counter[str] = field(default_factory=Counter)
    violation_count: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    _recorder: CassetteRecorder | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.record is not None:
            writer = CassetteWriter(self.record, self.base_url).open()
            self._recorder = CassetteRecorder(writer, lambda line: None)

    def journal_for(self, test: str, *, on_refuse: Callable[[str], NoReturn]) -> ClientJournal:
        """A fresh client-side journal for `test`: its requests charged to the budget (`on_refuse` is called
        with one line for one that may not go), its answers judged and recorded."""
        recorded = ClientJournal()

        def charge(request: httpx.Request) -> None:
            try:
                self.budget.charge(test, request.method, request.url.path, request.content)
                return
            except SpendRefused as exc:
                message = str(exc)
            on_refuse(message)

        recorded.sending.append(charge)
        recorded.received.append(lambda request, answer, seconds: self._judge(test, request, answer, seconds))
        return recorded

    def close(self) -> None:
        if self._recorder is not None:
            self._recorder.writer.close()

    def _judge(self, test: str, request: httpx.Request, answer: Answer, seconds: float) -> None:
        path = self._api_path(request.url.path)
        with self._lock:
            self.exchanges[test] += 1
        if self._recorder is not None:
            # As an ASGI scope carries them: names lower-cased (the recorder names the token from `authorization`).
            headers = [(name.lower(), value) for name, value in request.headers.raw]
            scope = {"type": "http", "method": request.method, "path": path, "headers": headers}
            upstream = UpstreamAnswer(answer.status_code, answer.headers, answer.content)
            self._recorder.record(scope, request.content, upstream, self._recorder.started() - seconds)
        operation_id = operation_of(path)
        if operation_id is None or request.method != "POST":
            return
        lines = _violations(operation_id, request.content, answer)
        with self._lock:
            self.violation_count[test] += len(lines)
            room = MAX_VIOLATION_LINES - len(self.violations)
            self.violations += [f"{test}: POST {path} -> HTTP {answer.status_code}: {line}" for line in lines[:room]]

    def _api_path(self, path: str) -> str:
        # The cassette's paths are under its `upstream`, as `record` writes them.
        prefix = urlsplit(self.base_url).path.rstrip("/")
        if prefix and path.startswith(prefix):
            return path[len(prefix) :] or "/"
        return path


def _violations(operation_id: str, content: bytes, answer: Answer) -> list[str]:
    # Imported here: schemathesis costs a second to import, and a run that never reaches an answer needs none.
    from contracts.checks.single_answer import answer_violations

    body: Any
    try:
        body = parse_value(content)
    except InvalidJson:
        body = content.decode("utf-8", "replace") or None
    try:
        return answer_violations(operation_id, body, answer.status_code, dict(answer.headers), answer.content)
    except Exception as exc:  # a checker that trips on an odd answer must not cost the test
        return [f"not checked ({type(exc).__name__}: {exc})"]
