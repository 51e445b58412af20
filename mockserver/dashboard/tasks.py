"""Each queued task of a namespace as a timeline: its submit, each poll and its answer, the moment it finished
(or failed), and when its result expires, on the namespace's clock; with its output images.

Read from what the admin API exposes: the task store's description (`GET /__admin/tasks`) and the journal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contracts.spec.schema import SUBMIT, operation_of
from mockserver.dashboard.rows import Judge, Row, row_of
from mockserver.sim.namespaces import Namespace

# Tasks on the page, newest first: the journal and the task store are bounded, and so is the page.
MAX_TASKS_SHOWN = 100
# Output thumbnails a task shows at most.
MAX_THUMBNAILS = 8  # not a contract bound


@dataclass
class Moment:
    at: float
    what: str
    detail: str = ""
    seq: int | None = None
    # Wall time, for the moments an exchange marks (the others happen on the namespace's clock only).
    wall: float | None = None


@dataclass
class Timeline:
    task_id: str
    state: str
    ready_at: float | None
    expires_at: float | None
    moments: list[Moment] = field(default_factory=list)
    # Output image names (under /outputs/), for thumbnails.
    outputs: list[str] = field(default_factory=list)

    @property
    def submitted_at(self) -> float:
        return self.moments[0].at if self.moments else 0.0


def task_timelines(space: Namespace, base_url: str, judge: Judge = row_of) -> list[Timeline]:
    now = space.clock.now()
    ttl = space.tasks.ttl
    described = {task["id"]: task for task in space.tasks.describe()}
    timelines: dict[str, Timeline] = {}
    for task_id, task in described.items():
        ready = task["ready_at"]
        timelines[task_id] = Timeline(task_id, task["state"], ready, None if ready is None else ready + ttl)
    for row in map(judge, space.journal):
        if row.task_id is None:
            continue
        timeline = timelines.get(row.task_id)
        if timeline is None:
            # Known to the journal only: its result has expired, or the store dropped it.
            timeline = timelines[row.task_id] = Timeline(row.task_id, "EXPIRED", None, None)
        timeline.moments.append(_moment(row))
        timeline.outputs = _outputs(row, base_url) or timeline.outputs
    for timeline in timelines.values():
        if timeline.ready_at is not None and timeline.ready_at <= now:
            timeline.moments.append(Moment(timeline.ready_at, f"finished: {timeline.state}"))
        if timeline.expires_at is not None:
            timeline.moments.append(Moment(timeline.expires_at, "result expires"))
        # A poll at the very moment a task ends saw it ended: the end goes first.
        timeline.moments.sort(key=lambda moment: (moment.at, not moment.what.startswith("finished")))
    ordered = sorted(timelines.values(), key=lambda t: t.submitted_at, reverse=True)
    return ordered[:MAX_TASKS_SHOWN]


def _moment(row: Row) -> Moment:
    entry = row.entry
    body = entry.response_body
    state = body.get("status") if isinstance(body, dict) else None
    what = "submit" if operation_of(entry.path) == SUBMIT else "poll"
    detail = f"HTTP {entry.status}" + (f", {state}" if isinstance(state, str) else "")
    if entry.fault:
        detail += f", fault {entry.fault}"
    return Moment(entry.started_at, what, detail, entry.seq, entry.wall_at or None)


def _outputs(row: Row, base_url: str) -> list[str]:
    body: Any = row.entry.response_body
    output = body.get("output") if isinstance(body, dict) else None
    urls = output.get("result") if isinstance(output, dict) else None
    if not isinstance(urls, list):
        return []
    # Only the fake's own images are shown (the page's policy loads nothing from elsewhere), by their names.
    prefix = base_url.rstrip("/") + "/outputs/"
    names = [url[len(prefix) :] for url in urls if isinstance(url, str) and url.startswith(prefix)]
    return names[:MAX_THUMBNAILS]
