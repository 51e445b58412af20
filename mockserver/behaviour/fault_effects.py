"""What a fault does, as data: to the answer, to the job's result, to the queued task, to the connection.

A `Fault` (faults.py) holds one or more of these, and when it may be chosen. The simulation reads them and
acts them out; it never asks a fault's name. A new fault with effects of these kinds is one table entry; a
new kind of effect is one class here and the one place in the simulation that acts it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Eligible:
    """Which submits a fault can meet; a status poll meets every fault that applies to status.

    A fault the plan finds ineligible for a request neither fires nor counts it (FaultPlan.choose).
    """

    # A sync call answers with its result; a queued one with a task id.
    sync: bool = True
    queued: bool = True
    # A job the fidelity profile fails at once (before any GPU time): it cannot meet a failure of its own.
    failing: bool = True

    def admits(self, *, queued: bool, failing: bool) -> bool:
        return (self.queued if queued else self.sync) and (self.failing or not failing)


ANY_SUBMIT = Eligible()


@dataclass(frozen=True, slots=True)
class Refusal:
    """The answer is this error instead: status code and envelope wording, with no job run, unless `job_runs_on`.

    `job_runs_on`: the gateway gives up on the call, but the job behind it runs on and its task stays (the
    admin API lists it); the answer then echoes the job's input, as the job's own answers do.
    """

    status_code: int
    error: str
    error_data: str
    # Seconds a client is told to wait (the Retry-After header), if any.
    retry_after: int | None = None
    # The answer comes only after the configured `gateway_timeout` seconds.
    after_gateway_timeout: bool = False
    job_runs_on: bool = False


@dataclass(frozen=True, slots=True)
class JobFailure:
    """The job ends FAILED with this wording (a sync call answers it, a queued task holds it)."""

    error: str
    error_data: str


@dataclass(frozen=True, slots=True)
class OutputFilter:
    """The job succeeds, but content checks take images out of its batch.

    `nsfw`: at least one image (the rest by a seeded coin) is flagged and dropped, its flag kept; `dropped`:
    that many more go from the end of the batch without a flag (production's second content check).
    """

    nsfw: bool = False
    dropped: int = 0


# What a job's result becomes: a failure, or a success with images filtered out.
ResultEffect = JobFailure | OutputFilter
UNFILTERED = OutputFilter()


@dataclass(frozen=True, slots=True)
class LostTask:
    """The queue loses the task: its id reads PENDING forever (the admin API lists it as lost)."""


@dataclass(frozen=True, slots=True)
class CrashedTask:
    """The worker dies: once due, a poll answers `code` with this error and an empty input."""

    code: int
    error: str
    error_data: str


# What becomes of a queued task in place of its result.
TaskEffect = LostTask | CrashedTask


# What the transport does to the connection instead of answering (mockserver/http/connection_faults.py acts
# each out at the socket, or raises ConnectionFault in-process).
ConnectionAct = Literal["reset", "empty_response", "malformed_json", "hang", "slow_body"]
