"""Bodies for `/getImage`: task ids and status requests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from contracts.spec.schema import STATUS
from strategies._valid import pins_for, request_bodies


def task_ids() -> SearchStrategy[str]:
    """Task ids shaped as the API issues them: canonical lower-case UUID4 strings.

    None of them is known to a fresh fake, which answers `PENDING` for each (as production does).
    Examples shrink towards `00000000-0000-4000-8000-000000000000`.

    Example:
        @given(strategies.task_ids())
        def test_poller_accepts_ids(task_id): ...
    """
    return st.uuids(version=4).map(str)


def status_requests(**fixed: object) -> SearchStrategy[dict[str, Any]]:
    """Valid `/getImage` bodies: `{"id": <task id>}`, sometimes with a `refID` string.

    `id` comes from `task_ids()` unless you pin it: pass the `task_id` of a queued submission as a
    plain value, or a strategy of ids. Pinned values must be valid for the contract, else
    `InvalidArgument`. Examples shrink towards the nil-like UUID4 with no `refID`.

    Example:
        @given(strategies.status_requests(id=queued["task_id"]))
        def test_poll(body): ...
    """
    return request_bodies(STATUS, pins_for("status_requests", STATUS, fixed), defaults={"id": task_ids()})
