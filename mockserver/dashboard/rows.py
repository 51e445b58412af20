"""What the dashboard shows of a journal entry: one row (verdict, task, why refused), and the filters a page
applies to them. It reads the journal the admin API pages through, and judges answers with the contract's own
reading of a refusal (contracts/spec/dialects.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from contracts.spec.dialects import read_answer
from contracts.spec.schema import STATUS, SUBMIT, operation_of
from mockserver.sim.journal import Entry

# Rows on one page of the journal view, and at most in the live table (older rows are paged, never held).
PAGE_ROWS = 100
STATUS_CLASSES = ("2xx", "3xx", "4xx", "5xx", "none")
VERDICTS = ("accepted", "queued", "refused", "failed", "unreadable", "no answer", "not an API call")
# The query keys a filtered view keeps in its URL.
FILTER_KEYS = ("path", "status", "task", "fault", "verdict", "q")
_READING_VERDICT = {"rejected": "refused"}
# Judgments kept for reuse, server-wide: a full journal's worth (about 100 bytes each beyond the shared strings).
JUDGMENTS_KEPT = 20_000


class Row(NamedTuple):
    """An entry as a row (a named tuple: a page may judge the whole journal, and this is built per entry)."""

    entry: Entry
    verdict: str
    # Why the request was refused or the task failed: each broken rule in words, in the answer's own dialect.
    why: tuple[str, ...]
    how: str
    task_id: str | None

    @property
    def held(self) -> float:
        """Seconds between the request's arrival and its answer on the namespace's clock (latency held)."""
        return max(0.0, self.entry.finished_at - self.entry.started_at)

    @property
    def status_class(self) -> str:
        return status_class(self.entry.status)


Judge = Callable[[Entry], Row]


def status_class(status: int | None) -> str:
    return "none" if status is None else f"{status // 100}xx"


def row_of(entry: Entry) -> Row:
    operation = operation_of(entry.path)
    if operation is None:
        return Row(entry, "not an API call" if entry.status is not None else "no answer", (), "", None)
    # Only a poll's request is read (for its task id): decoding is most of what judging an entry costs.
    request = _decoded(entry.request_body) if operation == STATUS else None
    response = _decoded(entry.response_body)
    task_id = _task_id(operation, request, response)
    if entry.status is None:
        return Row(entry, "no answer", ("No answer reached the client (a connection fault, or it left).",), "", task_id)
    reading = read_answer(entry.status, response, polled=operation == STATUS)
    verdict = _READING_VERDICT.get(reading.kind, reading.kind)
    why = _why(response) if reading.kind in ("rejected", "failed") else ()
    if reading.kind == "rejected" and reading.named and not why:
        why = tuple(f"{name}: refused" for name in reading.named)
    return Row(entry, verdict, why, reading.how if reading.kind in ("rejected", "failed") else "", task_id)


class Judgments:
    """Each entry's judgment, worked out once: a verdict or task filter judges the whole journal, and a reload
    or a live stream would judge the same entries again. Keyed by seq (unique within an app, never reused), at
    most `limit` kept, the oldest forgotten first; it holds judgments, never the entries themselves.

    Usage:
        judgments = Judgments(); row = judgments.row(entry)
    """

    def __init__(self, limit: int = JUDGMENTS_KEPT) -> None:
        self.limit = limit
        self._kept: dict[int, tuple[str, tuple[str, ...], str, str | None]] = {}

    def row(self, entry: Entry) -> Row:
        found = self._kept.get(entry.seq)
        if found is not None:
            return Row(entry, *found)
        row = row_of(entry)
        self._kept[entry.seq] = (row.verdict, row.why, row.how, row.task_id)
        if len(self._kept) > self.limit:
            del self._kept[next(iter(self._kept))]
        return row

    def __len__(self) -> int:
        return len(self._kept)


def _decoded(value: Any) -> Any:
    return value if isinstance(value, dict) else None


def _task_id(operation: str | None, request: Any, response: Any) -> str | None:
    if operation == SUBMIT and isinstance(response, dict) and isinstance(response.get("task_id"), str):
        return str(response["task_id"])
    if operation == STATUS and isinstance(request, dict) and isinstance(request.get("id"), str):
        return str(request["id"])
    return None


def _why(body: Any) -> tuple[str, ...]:
    """Each broken rule an answer names, in its own words: the contract's `{field, message}` list (or the 2024
    backend's `{"errors": [...]}`), FastAPI's `detail`, or the error text of any other dialect."""
    if not isinstance(body, dict):
        return ()
    detail = body.get("detail")
    if isinstance(detail, list):
        return tuple(_fastapi_rule(item) for item in detail)
    if isinstance(detail, str):
        return (detail,)
    data = body.get("error_data")
    listed = data.get("errors") if isinstance(data, dict) else data
    if isinstance(listed, list):
        return tuple(_contract_rule(item) for item in listed)
    said = [str(part) for part in (body.get("error"), data) if isinstance(part, str) and part]
    return tuple(said)


def _contract_rule(item: Any) -> str:
    if isinstance(item, dict) and "field" in item:
        return f"{item['field']}: {item.get('message', '')}"
    return str(item)


def _fastapi_rule(item: Any) -> str:
    if isinstance(item, dict):
        where = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        return f"{where}: {item.get('msg', '')}"
    return str(item)


@dataclass(frozen=True)
class Filters:
    """A view's filters, as kept in its URL: path (a part of it), status class, task id, fault (`any` for
    any), verdict, and free text searched in the path, the fault and both bodies as kept."""

    path: str = ""
    status: str = ""
    task: str = ""
    fault: str = ""
    verdict: str = ""
    q: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> Filters:
        # Bounded: a filter is compared with every entry, so a query string cannot make that cost grow.
        return cls(**{key: query.get(key, "")[:200].strip() for key in FILTER_KEYS})

    @property
    def active(self) -> dict[str, str]:
        return {key: getattr(self, key) for key in FILTER_KEYS if getattr(self, key)}

    def admits_entry(self, entry: Entry) -> bool:
        """The filters an entry answers without being judged: checked first, since judging decodes its bodies."""
        if self.path and self.path not in entry.path:
            return False
        if self.status and status_class(entry.status) != self.status:
            return False
        if self.fault and not (entry.fault is not None if self.fault == "any" else entry.fault == self.fault):
            return False
        return not self.q or self.q.lower() in _text_of(entry)

    def admits_row(self, row: Row) -> bool:
        """The filters that need the entry judged: its task and its verdict."""
        return (not self.task or row.task_id == self.task) and (not self.verdict or row.verdict == self.verdict)

    def admits(self, row: Row) -> bool:
        return self.admits_entry(row.entry) and self.admits_row(row)


def _text_of(entry: Entry) -> str:
    parts = (entry.method, entry.path, entry.fault or "", entry.request.kept.decode("utf-8", "replace"))
    return " ".join((*parts, entry.response.kept.decode("utf-8", "replace"))).lower()


def judged(entries: Iterable[Entry], filters: Filters, judge: Judge = row_of) -> Iterator[Row]:
    """Rows of the `entries` that pass `filters`, in their order."""
    for entry in entries:
        if filters.admits_entry(entry):
            row = judge(entry)
            if filters.admits_row(row):
                yield row


def newest_first(
    entries: Iterable[Entry], filters: Filters, *, before: int | None = None, judge: Judge = row_of
) -> Iterator[Row]:
    """Rows of `entries` (oldest first, as the journal keeps them) that pass `filters`, newest first."""
    for entry in reversed(tuple(entries)):
        if (before is not None and entry.seq >= before) or not filters.admits_entry(entry):
            continue
        row = judge(entry)
        if filters.admits_row(row):
            yield row


def page(
    entries: Iterable[Entry], filters: Filters, *, before: int | None = None, judge: Judge = row_of
) -> tuple[list[Row], int | None]:
    """One page of rows, newest first, and the `before` of the next older page (None: no older rows)."""
    rows: list[Row] = []
    for row in newest_first(entries, filters, before=before, judge=judge):
        if len(rows) == PAGE_ROWS:
            return rows, rows[-1].entry.seq
        rows.append(row)
    return rows, None
