"""Each forwarded exchange as a cassette line: numbered, timed, its task linked, its answer checked.

The recording proxy (contracts/traffic/recording_proxy.py) calls `record` once the upstream has answered and before the
answer goes out, then `check` once it has gone: the contract's answer checks print one line per violation.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from starlette.types import Scope

from contracts.cassette.jsonl import KEPT_HEADERS, Exchange, Message
from contracts.cassette.jsonl_writer import CassetteWriter
from contracts.checks.single_answer import answer_violations
from contracts.spec.schema import STATUS, SUBMIT, operation_of
from contracts.traffic.upstream import Answer
from mockserver.http import request_facts

# Queued tasks whose polls the proxy can still link to their submit: a week-long recording holds no more.
MAX_TASKS = 10_000


class CassetteRecorder:
    """Writes exchanges to `writer` and says what the contract checks find through `say`.

    Usage:
        recorder = CassetteRecorder(CassetteWriter(path, upstream).open(), print)
        started = recorder.started()
        exchange = recorder.record(scope, body, answer, started)
        recorder.check(exchange, answer)
    """

    def __init__(self, writer: CassetteWriter, say: Callable[[str], None]) -> None:
        self.writer, self.say = writer, say
        self.first: float | None = None
        self.seq = 0
        # task id -> (seq of its submit, when it was submitted); the oldest forgotten past MAX_TASKS
        self.tasks: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.lock = threading.Lock()

    def started(self) -> float:
        """When an exchange was sent upstream (monotonic seconds)."""
        return time.monotonic()

    def record(self, scope: Scope, raw: bytes, answer: Answer, sent: float) -> Exchange:
        """The exchange as a line, written to the cassette whole."""
        seconds = time.monotonic() - sent
        headers = request_facts.headers(scope)
        path = scope["path"]
        auth, token = self.writer.token_name(headers.get("authorization"))
        sent_type = headers.get("content-type")
        steering = {name: value for name, value in headers.items() if name.startswith("x-mock-")}
        request = Message.of(raw, sent_type or "").sent_with(sent_type, steering)
        response = Message.of(answer.content, answer.headers.get("content-type", ""))
        with self.lock:
            self.first = sent if self.first is None else self.first
            self.seq += 1
            seq, at = self.seq, sent - self.first
            task = self._task_link(path, request, at)
            self._remember_task(path, response, seq, at)
            exchange = Exchange(
                seq, at, scope["method"], path, auth, token, request,
                answer.status_code, answer.kept_headers(KEPT_HEADERS), response, seconds, task,
            )  # fmt: skip
            # Under the lock, so lines are in seq order.
            self.writer.write(exchange)
        return exchange

    def check(self, exchange: Exchange, answer: Answer) -> None:
        """Print one line per contract rule the answer breaks (paths outside the contract are not checked)."""
        operation_id = operation_of(exchange.path)
        if operation_id is None or exchange.method != "POST":
            return
        request = exchange.request
        body: Any = request.json if request.is_json else (request.text or None)
        try:
            violations = answer_violations(operation_id, body, answer.status_code, answer.headers, answer.content)
        except Exception as exc:  # a checker that trips on an odd answer must not cost the recording
            violations = [f"not checked ({type(exc).__name__}: {exc})"]
        for violation in violations:
            self.say(f"violation: {exchange.method} {exchange.path} -> HTTP {exchange.status}: {violation}")

    def _remember_task(self, path: str, response: Message, seq: int, at: float) -> None:
        body = response.json if response.is_json else None
        if operation_of(path) == SUBMIT and isinstance(body, dict) and body.get("status") == "PENDING":
            task_id = body.get("task_id")
            if isinstance(task_id, str):
                self.tasks[task_id] = (seq, at)
                if len(self.tasks) > MAX_TASKS:
                    self.tasks.popitem(last=False)

    def _task_link(self, path: str, request: Message, at: float) -> dict[str, Any] | None:
        body = request.json if request.is_json else None
        if operation_of(path) != STATUS or not isinstance(body, dict):
            return None
        queued = self.tasks.get(str(body.get("id")))
        return None if queued is None else {"submit": queued[0], "offset": round(at - queued[1], 6)}
