"""How probe and diff pace their requests: one Pacing, checked when built, and a Spacer that keeps them apart."""

from __future__ import annotations

import pytest

from contracts.client.pacing import Pacing, Spacer


@pytest.mark.parametrize(
    "bad",
    [{"request_timeout": 0}, {"task_timeout": -1}, {"poll_interval": float("inf")}, {"min_interval": -0.5},
     {"min_interval": "1"}, {"request_timeout": True}],
)  # fmt: skip
def test_pacing_refuses_a_time_it_cannot_wait(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=rf"Pacing\({next(iter(bad))}=.*\) must be a finite number of seconds"):
        Pacing(**bad)  # type: ignore[arg-type]
    assert Pacing(min_interval=0).min_interval == 0


def test_the_spacer_waits_what_is_left_of_the_interval_since_the_last_send() -> None:
    now, waits = [100.0], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    spacer = Spacer(2.0, sleep, lambda: now[0])
    spacer.wait_turn()  # the first request goes at once
    now[0] += 0.5  # its answer took half a second
    spacer.wait_turn()
    now[0] += 3.0  # this one took longer than the interval
    spacer.wait_turn()
    assert waits == [1.5, 0.0]


def test_pacing_gives_the_polling_its_deadline_and_interval() -> None:
    polling = Pacing(task_timeout=42, poll_interval=3).polling
    assert (polling.deadline, polling.interval) == (42, 3)
