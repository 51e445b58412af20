"""The fake's rules and state: submit, status, outputs. No HTTP here (moto's models.py / responses.py split)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mockserver.behaviour.clock import Clock
from mockserver.behaviour.fault_effects import (
    UNFILTERED,
    CrashedTask,
    JobFailure,
    LostTask,
    OutputFilter,
    Refusal,
    ResultEffect,
    TaskEffect,
)
from mockserver.behaviour.faults import Fault, header_fault
from mockserver.behaviour.fidelity import profiles
from mockserver.behaviour.fidelity.profiles import Profile
from mockserver.behaviour.fidelity.rules import Job, Lookup, Refused
from mockserver.behaviour.latency import Timing, parse_latency
from mockserver.behaviour.ratelimit import retry_after_header
from mockserver.config.settings import Config
from mockserver.sim import outputs
from mockserver.sim.namespaces import DEFAULT, Namespace, Namespaces
from mockserver.sim.outputs import Destination, OutputStore, new_uuid
from mockserver.sim.replay import Replay
from mockserver.sim.tasks import Task
from mockserver.wire import envelope
from mockserver.wire.envelope import Envelope, Reply
from mockserver.wire.images import OutputImage


@dataclass(frozen=True)
class Steering:
    """Per-request overrides from the `X-Mock-Fault` and `X-Mock-Latency` headers (already validated)."""

    fault: str | None = None
    latency: str | None = None


class Backend:
    """All state of one fake: namespaces (tasks, journal, faults, clock) and the images behind output URLs.

    Usage:
        backend = Backend(Config(seed=1), VirtualClock())
        reply = backend.submit(body, base_url="http://127.0.0.1:8000")
    """

    def __init__(self, config: Config, clock: Clock | None = None) -> None:
        self.config = config
        self._profile = (config, profiles.profile(config.fidelity))
        self.namespaces = Namespaces(config, clock)
        self.outputs = OutputStore(config.max_outputs)
        # Recorded answers, consulted before the model (replay.py).
        self.replay = _replay_of(config)

    @property
    def default(self) -> Namespace:
        return self.namespaces.get(DEFAULT)

    def reconfigure(self, config: Config) -> None:
        if _replay_settings(config) != _replay_settings(self.config):
            # The pytest fixtures give each test its cassette on one session-wide server.
            self.replay = _replay_of(config)
        self.config = config
        self.namespaces.apply(config)

    @property
    def profile(self) -> Profile:
        """The fidelity profile answering now (it follows `config.fidelity`, which the admin API can change)."""
        config, found = self._profile
        if config is not self.config:  # looked up again only when the config was replaced
            self._profile = (self.config, found := profiles.profile(self.config.fidelity))
        return found

    def submit(
        self,
        body: dict[str, Any],
        *,
        base_url: str,
        token_id: str = "",
        namespace: str = DEFAULT,
        steering: Steering = Steering(),
    ) -> Reply:
        space = self.namespaces.get(namespace)
        limited = self._rate_limited(space, token_id, body)
        if limited is not None:
            return limited
        profile = self.profile
        job = profile.rules.admit_submit(body)
        if isinstance(job, Refused):
            return job.reply
        fault = _submit_fault(space, job, steering)
        destination = Destination(self.outputs, self.config.public_url or base_url, profile.outputs)
        if fault is not None and fault.answer is not None:
            if not fault.answer.job_runs_on:
                return self._refusal(fault.name, fault.answer, body)
            # The caller is refused, but the job runs on; the refusal echoes its input as its own answers would.
            self._run_unseen(space, job, steering, destination)
            return self._refusal(fault.name, fault.answer, job.request, echo=job.echo)
        return _acted_on_connection(self._generate(space, job, fault, steering, destination), fault)

    def status(
        self, body: dict[str, Any], *, token_id: str = "", namespace: str = DEFAULT, steering: Steering = Steering()
    ) -> Reply:
        space = self.namespaces.get(namespace)
        limited = self._rate_limited(space, token_id, body)
        if limited is not None:
            return limited
        lookup = self.profile.rules.admit_status(body)
        if isinstance(lookup, Refused):
            return lookup.reply
        # A poll has no job to be eligible or not: every fault that applies to status can meet it.
        fault = header_fault(steering.fault, "status") if steering.fault is not None else space.faults.choose("status")
        if fault is not None and fault.answer is not None:
            return self._refusal(fault.name, fault.answer, body)
        return _acted_on_connection(self._lookup(space, lookup), fault)

    def _generate(
        self, space: Namespace, job: Job, fault: Fault | None, steering: Steering, destination: Destination
    ) -> Reply:
        # A job bound to fail stops at its first step, before any GPU time is spent.
        timing = Timing() if job.fails_with else self._timing(space, job.request, steering)
        result = self._outcome(space, job, timing, fault.result if fault else None, destination)
        fault_name = fault.name if fault else None
        if not job.request["celery"]:
            return self._sync_reply(result, timing, fault_name)
        task_id = new_uuid(space.rng)
        space.tasks.add(_task(task_id, space.clock.now() + timing.total, result, fault.task if fault else None))
        return Reply(200, envelope.queued(body=job.request, echo=job.echo, task_id=task_id), fault=fault_name)

    def _lookup(self, space: Namespace, lookup: Lookup) -> Reply:
        answer = space.tasks.answer_of(lookup.task_id)
        if answer is None:
            echo = self.profile.rules.echo_status(lookup)
            return Reply(200, envelope.pending_status(task_id=lookup.task_id, echo=echo))
        code, result = answer
        if code == 200 and result["status"] == "FAILED" and self.profile.failed_job_code >= 500:
            # Before 2025-04 a failed Celery task re-raised: HTTP 500 with empty input and output.
            return Reply(500, _raised(result))
        return Reply(code, result)

    def output(self, name: str) -> OutputImage | None:
        return self.outputs.get(name)

    def reset(self, scope: str = "all", namespace: str | None = None) -> None:
        """Forget journal, tasks or all state, in one namespace or (None) in every namespace."""
        spaces = [self.namespaces.get(namespace)] if namespace is not None else list(self.namespaces)
        for space in spaces:
            space.reset(scope)
        if scope == "all" and namespace is None:
            self.outputs.clear()
            # Recorded answers are handed out from the first again, like the seeded sequences.
            self.replay = _replay_of(self.config)

    def _rate_limited(self, space: Namespace, token_id: str, body: Any) -> Reply | None:
        if space.limiter is None:
            return None
        wait = space.limiter.admit(token_id, space.clock.now())
        if wait is None:
            return None
        detail = f"Rate limit of {space.limiter.limit.spec} exceeded; retry after {retry_after_header(wait)} s."
        failed = envelope.failed(error="Too Many Requests", error_data=detail, body=body)
        return Reply(429, failed, headers={"Retry-After": retry_after_header(wait)}, fault="rate_limit")

    def _refusal(self, fault: str, answer: Refusal, body: Any, echo: dict[str, Any] | None = None) -> Reply:
        headers = {"Retry-After": str(answer.retry_after)} if answer.retry_after is not None else {}
        delay = self.config.gateway_timeout if answer.after_gateway_timeout else 0.0
        failed = envelope.failed(error=answer.error, error_data=answer.error_data, body=body, echo=echo)
        return Reply(answer.status_code, failed, delay=delay, headers=headers, fault=fault)

    def _timing(self, space: Namespace, request: dict[str, Any], steering: Steering) -> Timing:
        model = parse_latency(steering.latency) if steering.latency else space.latency
        now = space.clock.now()
        idle_for = None if space.last_job_at is None else now - space.last_job_at
        # A spec's tails (lognormal, workload noise) are cut at the bound on how long a request is held.
        timing = model.sample(request, space.rng, idle_for).capped(self.config.max_latency)
        space.last_job_at = now + timing.total
        return timing

    def _run_unseen(self, space: Namespace, job: Job, steering: Steering, destination: Destination) -> None:
        # A job whose caller was refused: no one holds its id, but the admin API lists its task.
        timing = self._timing(space, job.request, steering)
        result = self._outcome(space, job, timing, None, destination)
        space.tasks.add(Task.of(new_uuid(space.rng), space.clock.now() + timing.total, result))

    def _sync_reply(self, result: Envelope, timing: Timing, fault: str | None) -> Reply:
        code = self.profile.failed_job_code if result["status"] == "FAILED" else 200
        # A 500 is the exception handler's answer: it knows nothing of the request.
        return Reply(code, _raised(result) if code >= 500 else result, delay=timing.total, fault=fault)

    def _outcome(
        self, space: Namespace, job: Job, timing: Timing, effect: ResultEffect | None, destination: Destination
    ) -> Envelope:
        failure = job.fails_with or ((effect.error, effect.error_data) if isinstance(effect, JobFailure) else None)
        if failure is not None:
            return envelope.failed(error=failure[0], error_data=failure[1], body=job.request, echo=job.echo)
        filtered = effect if isinstance(effect, OutputFilter) else UNFILTERED
        return outputs.success(job, timing, space, destination, filtered)


def _submit_fault(space: Namespace, job: Job, steering: Steering) -> Fault | None:
    """The fault this submit meets: the header's, or the plan's among those its job is eligible for."""
    if steering.fault is not None:
        return header_fault(steering.fault, "submit")
    queued, failing = bool(job.request["celery"]), job.fails_with is not None

    def eligible(fault: Fault) -> bool:
        return fault.eligible.admits(queued=queued, failing=failing)

    return space.faults.choose("submit", eligible=eligible)


def _task(task_id: str, ready_at: float, result: Envelope, effect: TaskEffect | None) -> Task:
    """The queued task holding `result`, or what a task effect makes of it instead."""
    if isinstance(effect, LostTask):
        # Production loses the id, and it reads PENDING forever; the admin API still lists it, as lost.
        return Task.lost(task_id, ready_at)
    if isinstance(effect, CrashedTask):
        # Celery records FAILURE, and the poll re-raises it: `code`, with empty input.
        crash = envelope.failed(error=effect.error, error_data=effect.error_data)
        return Task.of(task_id, ready_at, crash, code=effect.code)
    return Task.of(task_id, ready_at, result)


def _raised(result: Envelope) -> Envelope:
    # A failed job re-raised reaches FastAPI's exception handler, which knows nothing of the request.
    return envelope.failed(error=result["error"], error_data=result["error_data"])


def _acted_on_connection(reply: Reply, fault: Fault | None) -> Reply:
    # The request got through and any job runs on; only the answer is lost or mangled on the way back.
    if fault is None or fault.connection is None:
        return reply
    return dataclasses.replace(reply, fault=fault.name, connection=fault.connection)


def _replay_settings(config: Config) -> tuple[str | None, bool, int, tuple[str, ...]]:
    return config.replay, config.replay_strict, config.max_tasks, config.replay_ignore


def _replay_of(config: Config) -> Replay | None:
    """The replay `config` asks for, fresh; its cassette was read once, when the config was built."""
    if config.cassette is None:
        return None
    return Replay(
        config.cassette,
        str(config.replay),
        config.replay_strict,
        max_tasks=config.max_tasks,
        ignore=config.replay_ignore,
    )
