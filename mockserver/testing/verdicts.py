"""Verdicts on a client, read from the fake's journal: each raises AssertionError listing the offending lines."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from contracts.spec.schema import STATUS, SUBMIT, operation_path, served_paths
from contracts.spec.statuses import is_terminal
from mockserver.sim.journal import Entry, Journal

STATUS_PATH = operation_path(STATUS)
# Timestamps are floats of simulated seconds; a client that waits exactly as asked must pass.
_SLACK = 1e-6


class Verdicts:
    """Mixed into QolabaMock: sentence-like assertions over `self.journal`."""

    # Whose clock the journal's times are, as a failure's table says.
    journal_clock = "the fake's clock"

    @property
    def journal(self) -> Journal:
        raise NotImplementedError

    def assert_called(self, path: str, times: int | None = None) -> None:
        """At least one call to `path` (any prefix), or exactly `times` calls."""
        calls = self.journal.calls_to(path)
        if (times is None and calls) or len(calls) == times:
            return
        expected = f"{times} call(s) to {path}" if times is not None else f"at least one call to {path}"
        self._fail(f"assert_called({path!r}, times={times})", expected, f"{len(calls)}", list(self.journal))

    def assert_not_called(self, path: str) -> None:
        calls = self.journal.calls_to(path)
        if calls:
            self._fail(f"assert_not_called({path!r})", f"no call to {path}", f"{len(calls)} call(s)", calls)

    def assert_polls_no_faster_than(self, per_second: float, path: str = STATUS_PATH) -> None:
        """Consecutive polls of one task (same token, same `id`) are at least 1/per_second seconds apart."""
        if not per_second > 0:
            raise ValueError(f"per_second={per_second!r} must be a positive number")
        offending: list[Entry] = []
        shortest = float("inf")
        for polls in _group(self.journal.calls_to(path), lambda e: (e.token_id, _field(e.request_body, "id"))):
            for before, after in itertools.pairwise(polls):
                gap = after.started_at - before.started_at
                shortest = min(shortest, gap)
                if gap < 1 / per_second - _SLACK:
                    offending += [e for e in (before, after) if e not in offending]
        if offending:
            rate = "simultaneous" if shortest <= 0 else f"{1 / shortest:.1f}/s"
            observed = f"two polls of one task {shortest:.3f} s apart ({rate})"
            self._fail(
                f"assert_polls_no_faster_than({per_second})", f"at most {per_second}/s per task", observed, offending
            )

    def assert_honoured_retry_after(self) -> None:
        """After each answer carrying Retry-After, the same token's next request waited at least that long."""
        entries = list(self.journal)
        offending: list[Entry] = []
        for index, entry in enumerate(entries):
            wait = _retry_after(entry)
            later = (e for e in entries[index + 1 :] if e.token_id == entry.token_id)
            following = next(later, None)
            if wait is not None and following is not None and following.started_at - entry.finished_at < wait - _SLACK:
                offending += [entry, following]
        if offending:
            observed = "; ".join(
                f"seq {a.seq} asked {_retry_after(a):g} s, seq {b.seq} came {b.started_at - a.finished_at:.3f} s later"
                for a, b in zip(offending[::2], offending[1::2], strict=True)
            )
            self._fail("assert_honoured_retry_after()", "no request before Retry-After ran out", observed, offending)

    def assert_gave_up_by(self, seconds: float) -> None:
        """No poll later than `seconds` after the submit of a task that never finished."""
        polls = _group(self.journal.calls_to(STATUS_PATH), lambda e: _field(e.request_body, "id"))
        by_id = {_field(group[0].request_body, "id"): group for group in polls}
        offending: list[Entry] = []
        for submit in self._submits():
            task_id = _field(submit.response_body, "task_id")
            task_polls = by_id.get(task_id, []) if task_id else []
            if any(_finished(poll) for poll in task_polls):
                continue
            late = [p for p in task_polls if p.started_at - submit.started_at > seconds + _SLACK]
            if late:
                offending += [submit, *late]
        if offending:
            last = max(e.started_at for e in offending) - min(e.started_at for e in offending)
            observed = f"polls of an unfinished task up to {last:.3f} s after its submit"
            self._fail(f"assert_gave_up_by({seconds})", f"no poll after {seconds} s from submit", observed, offending)

    def assert_no_duplicate_submits(self) -> None:
        """No request body sent again after an identical one the fake accepted (its job ran, or runs on)."""
        accepted: dict[tuple[str | None, str], Entry] = {}
        offending: list[Entry] = []
        for submit in self._submits():
            key = (submit.token_id, json.dumps(submit.request_body, sort_keys=True))
            if key in accepted:
                offending += [accepted[key], submit]
            elif submit.status in (200, 504) or (submit.status is None and submit.fault is not None):
                accepted[key] = submit
        if offending:
            observed = f"{len(offending) // 2} repeat(s) of an accepted request"
            self._fail("assert_no_duplicate_submits()", "each accepted request sent once", observed, offending)

    def assert_fetched_outputs(self) -> None:
        """Every `output.result` URL of every SUCCESS answer was fetched with a GET."""
        entries = list(self.journal)
        fetched = {e.path for e in entries if e.method == "GET"}
        offending: list[Entry] = []
        missing: list[str] = []
        for entry in entries:
            if entry.status == 200 and _field(entry.response_body, "status") == "SUCCESS":
                urls = _field(_field(entry.response_body, "output"), "result") or []
                unfetched = [url for url in urls if urlsplit(url).path not in fetched]
                missing += unfetched
                offending += [entry] if unfetched else []
        if offending:
            observed = f"{len(missing)} never fetched: {', '.join(missing)}"
            self._fail("assert_fetched_outputs()", "a GET for every result URL", observed, offending)

    def _submits(self) -> list[Entry]:
        return [e for e in self.journal if e.path.endswith(served_paths(SUBMIT))]

    def _fail(self, verdict: str, expected: str, observed: str, lines: Iterable[Entry]) -> None:
        # Times are simulated seconds since the journal's first entry; the table says which, and its clock reading.
        first = next(iter(self.journal), None)
        origin = first.started_at if first is not None else 0.0
        rows = [f"  {'seq':>5} {'t (s)':>9}  {'method':<6} {'path':<36} {'status':>6}  fault"]
        for e in lines:
            status = "-" if e.status is None else str(e.status)
            line = (
                f"  {e.seq:>5} {e.started_at - origin:>9.3f}  {e.method:<6} {e.path:<36} {status:>6}  {e.fault or ''}"
            )
            rows.append(line.rstrip())
        if first is not None and len(rows) > 1:
            rows.append(f"  t: seconds since seq {first.seq} began (started_at {origin:.3f} on {self.journal_clock})")
        table = "\n".join(rows) if len(rows) > 1 else "  (no journal lines)"
        raise AssertionError(f"{verdict} failed\n  expected: {expected}\n  observed: {observed}\n{table}")


def _field(body: Any, key: str) -> Any:
    return body.get(key) if isinstance(body, dict) else None


def _group(entries: Iterable[Entry], key: Callable[[Entry], Any]) -> list[list[Entry]]:
    groups: dict[Any, list[Entry]] = {}
    for entry in entries:
        groups.setdefault(key(entry), []).append(entry)
    return list(groups.values())


def _finished(poll: Entry) -> bool:
    # Under production-2024 a failed task reads as a bare 500, as does a crashed one in any profile; an injected
    # http_500 is not the task's end.
    if poll.status == 500 and poll.fault is None:
        return True
    return poll.status == 200 and is_terminal(poll.response_body)


def _retry_after(entry: Entry) -> float | None:
    # Delay-seconds only: the fake and production send them, and an HTTP-date means nothing on a virtual clock.
    value = entry.response_header("retry-after")
    if value is None or not value.strip().isdecimal():
        return None
    return float(value.strip())
