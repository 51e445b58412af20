"""The fake's rules and state: submit, status, outputs. No HTTP here (moto's models.py / responses.py split)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mockserver.behaviour.clock import Clock
from mockserver.behaviour.faults import Fault, Operation, header_fault
from mockserver.behaviour.fidelity import profiles as fidelity
from mockserver.behaviour.fidelity.profiles import Profile
from mockserver.behaviour.fidelity.rules import Job, Lookup, Refused
from mockserver.behaviour.latency import Timing, parse_latency
from mockserver.behaviour.ratelimit import retry_after_header
from mockserver.config.settings import Config
from mockserver.sim import outputs
from mockserver.sim.namespaces import DEFAULT, Namespace, Namespaces
from mockserver.sim.outputs import OutputStore, new_uuid
from mockserver.sim.replay import Replay
from mockserver.sim.tasks import Task
from mockserver.wire import envelope
from mockserver.wire.envelope import Envelope, Reply
from mockserver.wire.images import OutputImage

# What an http_429 fault tells the client to wait, in seconds.
FAULT_RETRY_AFTER = 2


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
        self._profile = (config, fidelity.profile(config.fidelity))
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
            self._profile = (self.config, found := fidelity.profile(self.config.fidelity))
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
        job = self.profile.rules.admit_submit(body)
        if isinstance(job, Refused):
            return job.reply
        fault = self._choose_fault(space, "submit", steering, queued=job.request["celery"], fails=job.fails_with)
        base_url = self.config.public_url or base_url
        if fault is not None and fault.name == "gateway_timeout":
            return self._gateway_timeout(space, job, fault, steering, base_url=base_url)
        if fault is not None and fault.family == "http":
            return self._fault_reply(fault, body)
        domain_fault = fault if fault is not None and fault.family == "domain" else None
        reply = self._generate(space, job, domain_fault, steering, base_url=base_url)
        return _with_connection_fault(reply, fault)

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
        fault = self._choose_fault(space, "status", steering, queued=False, fails=None)
        if fault is not None and fault.family == "http":
            return self._fault_reply(fault, body)
        return _with_connection_fault(self._lookup(space, lookup), fault)

    def _generate(self, space: Namespace, job: Job, fault: Fault | None, steering: Steering, *, base_url: str) -> Reply:
        # A job bound to fail stops at its first step, before any GPU time is spent.
        timing = Timing() if job.fails_with else self._timing(space, job.request, steering)
        result = self._outcome(space, job, timing, fault, base_url=base_url)
        fault_name = fault.name if fault else None
        if not job.request["celery"]:
            return self._sync_reply(result, timing, fault_name)
        task_id = new_uuid(space.rng)
        ready_at = space.clock.now() + timing.total
        if fault_name == "task_crashed":
            # The worker died: Celery records FAILURE, and the poll re-raises it as a 500 with empty input.
            crash = envelope.failed(error=_CRASH[0], error_data=_CRASH[1])
            space.tasks.add(Task.of(task_id, ready_at, crash, code=500))
        elif fault_name == "task_lost":
            # Production loses the id, and it reads PENDING forever; the admin API still lists it, as lost.
            space.tasks.add(Task.lost(task_id, ready_at))
        else:
            space.tasks.add(Task.of(task_id, ready_at, result))
        return Reply(200, envelope.queued(body=job.request, echo=job.echo, task_id=task_id), fault=fault_name)

    def _lookup(self, space: Namespace, lookup: Lookup) -> Reply:
        answer = space.tasks.answer_of(lookup.task_id)
        if answer is None:
            echo = self.profile.rules.echo_status(lookup)
            return Reply(200, envelope.pending_status(task_id=lookup.task_id, echo=echo))
        code, result = answer
        if code == 200 and result["status"] == "FAILED" and self.profile.failed_job_code >= 500:
            # Before 2025-04 a failed Celery task re-raised: HTTP 500 with empty input and output.
            return Reply(500, envelope.failed(error=result["error"], error_data=result["error_data"]))
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

    def _choose_fault(
        self, space: Namespace, operation: Operation, steering: Steering, *, queued: bool, fails: object
    ) -> Fault | None:
        if steering.fault is not None:
            return header_fault(steering.fault, operation)

        def eligible(fault: Fault) -> bool:
            # A sync call has no task to lose or crash, a queued submit answers before any gateway timeout,
            # and a job that fails at once neither times out nor meets a generation failure.
            if fault.name in ("task_lost", "task_crashed"):
                return queued
            if fault.name == "gateway_timeout":
                return not queued and not fails
            return not (fault.family == "domain" and fails)

        return space.faults.choose(operation, eligible=eligible)

    def _fault_reply(self, fault: Fault, body: Any) -> Reply:
        assert fault.status_code is not None and fault.error is not None
        headers = {"Retry-After": str(FAULT_RETRY_AFTER)} if fault.status_code == 429 else {}
        delay = self.config.gateway_timeout if fault.name == "gateway_timeout" else 0.0
        failed = envelope.failed(error=fault.error, error_data=fault.error_data, body=body)
        return Reply(fault.status_code, failed, delay=delay, headers=headers, fault=fault.name)

    def _timing(self, space: Namespace, request: dict[str, Any], steering: Steering) -> Timing:
        model = parse_latency(steering.latency) if steering.latency else space.latency
        now = space.clock.now()
        idle_for = None if space.last_job_at is None else now - space.last_job_at
        # A spec's tails (lognormal, workload noise) are cut at the bound on how long a request is held.
        timing = model.sample(request, space.rng, idle_for).capped(self.config.max_latency)
        space.last_job_at = now + timing.total
        return timing

    def _gateway_timeout(self, space: Namespace, job: Job, fault: Fault, steering: Steering, *, base_url: str) -> Reply:
        # The gateway gives up on a sync call, but the job runs on; it stays visible to the admin API as a task.
        timing = self._timing(space, job.request, steering)
        result = self._outcome(space, job, timing, None, base_url=base_url)
        space.tasks.add(Task.of(new_uuid(space.rng), space.clock.now() + timing.total, result))
        error = fault.error or "Gateway Timeout"
        failed = envelope.failed(error=error, error_data=fault.error_data, body=job.request, echo=job.echo)
        return Reply(504, failed, delay=self.config.gateway_timeout, fault=fault.name)

    def _sync_reply(self, result: Envelope, timing: Timing, fault: str | None) -> Reply:
        code = self.profile.failed_job_code if result["status"] == "FAILED" else 200
        # A 500 is the exception handler's answer: it knows nothing of the request.
        body = envelope.failed(error=result["error"], error_data=result["error_data"]) if code >= 500 else result
        return Reply(code, body, delay=timing.total, fault=fault)

    def _outcome(self, space: Namespace, job: Job, timing: Timing, fault: Fault | None, *, base_url: str) -> Envelope:
        failure = job.fails_with or ((fault.error, fault.error_data or "") if fault and fault.error else None)
        if failure is not None:
            return envelope.failed(error=failure[0], error_data=failure[1], body=job.request, echo=job.echo)
        return outputs.success(
            body=job.request,
            echo=job.echo,
            request=job.request,
            timing=timing,
            seed=space.seed,
            rng=space.rng,
            now=space.clock.now(),
            nsfw=fault is not None and fault.name == "nsfw",
            dropped=1 if fault is not None and fault.name == "content_filtered" else 0,
            store=self.outputs,
            base_url=base_url,
            style=self.profile.outputs,
        )


# What the poll of a task whose worker was killed answers (Celery's WorkerLostError, re-raised at main.py L80).
_CRASH = ("Internal Error", "Worker exited prematurely: signal 9 (SIGKILL) Job: 0.")


def _with_connection_fault(reply: Reply, fault: Fault | None) -> Reply:
    # The request got through and any job runs on; only the answer is lost or mangled on the way back.
    if fault is None or fault.family != "connection":
        return reply
    return dataclasses.replace(reply, fault=fault.name, connection=fault.name)


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
