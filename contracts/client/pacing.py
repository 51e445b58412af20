"""How a tool paces its requests to a target: how long it waits for an answer, how far apart it sends them,
and how it polls a queued task. `probe` and `diff` take one `Pacing`; the CLI builds it from the flags every
command that calls an API shares (`--request-timeout`, `--task-timeout`, `--poll-interval`).

Usage:
    pacing = Pacing(min_interval=0.5)             # 2 requests a second, as against a remote host
    report = run_probe(target, pacing)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from contracts.client.polling import PollSettings


@dataclass(frozen=True)
class Pacing:
    # Seconds to wait for each answer.
    request_timeout: float = 30.0
    # Seconds from one request to the next (polls aside: they keep `poll_interval`).
    min_interval: float = 0.0
    # Seconds a queued task may take to end, and between two polls of it.
    task_timeout: float = 300.0
    poll_interval: float = 2.0

    def __post_init__(self) -> None:
        for name in ("request_timeout", "task_timeout", "poll_interval", "min_interval"):
            value, zero_allowed = getattr(self, name), name == "min_interval"
            number = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not number or value < 0 or (value == 0 and not zero_allowed):
                wanted = ">= 0" if zero_allowed else "> 0"
                raise ValueError(f"Pacing({name}={value!r}) must be a finite number of seconds {wanted}")

    @property
    def polling(self) -> PollSettings:
        return PollSettings(deadline=self.task_timeout, interval=self.poll_interval)


class Spacer:
    """Keeps requests `min_interval` seconds apart: call `wait_turn()` before each one."""

    def __init__(
        self,
        min_interval: float,
        sleep: Callable[[float], object] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_interval, self.sleep, self.monotonic = min_interval, sleep, monotonic
        self.last_sent: float | None = None

    def wait_turn(self) -> None:
        if self.last_sent is not None and self.min_interval > 0:
            # Counted from the last send: the time its answer took counts toward the interval.
            self.sleep(max(0.0, self.last_sent + self.min_interval - self.monotonic()))
        self.last_sent = self.monotonic()
