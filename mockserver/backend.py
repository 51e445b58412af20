"""The fake's rules and state: submit, status, outputs. No HTTP here (moto's models.py / responses.py split)."""

from __future__ import annotations

import json
import random
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts import STATUS, SUBMIT, field_rules
from mockserver import envelope
from mockserver.clock import Clock
from mockserver.config import Config
from mockserver.envelope import Envelope
from mockserver.images import Kind, OutputImage, digest, floor_to_multiple_of_8
from mockserver.tasks import Task, TaskStore
from mockserver.validation import validate, with_defaults

# Output URLs stay servable for this many most recent images; older ones answer 404.
_MAX_OUTPUTS = 65_536


@dataclass(frozen=True)
class Timing:
    """Simulated seconds a generation takes, as `time_required` reports them."""

    startup_time: float = 0.0
    runtime: float = 0.0

    @property
    def total(self) -> float:
        return self.startup_time + self.runtime


LatencyModel = Callable[[dict[str, Any], random.Random], Timing]


def no_latency(request: dict[str, Any], rng: random.Random) -> Timing:
    return Timing()


@dataclass(frozen=True)
class Reply:
    """What the transport should answer, and how long (simulated seconds) to wait before answering."""

    status_code: int
    body: Envelope
    delay: float = 0.0


class Backend:
    """All state of one fake: queued tasks and the images behind output URLs.

    Usage:
        backend = Backend(Config(seed=1), VirtualClock())
        reply = backend.submit(body, base_url="http://127.0.0.1:8000")
    """

    def __init__(self, config: Config, clock: Clock, latency: LatencyModel = no_latency) -> None:
        self.config = config
        self.clock = clock
        self.latency = latency
        self.tasks = TaskStore(clock, config.result_ttl)
        self._outputs: OrderedDict[str, OutputImage] = OrderedDict()
        self._rng = random.Random(config.seed)

    def submit(self, body: dict[str, Any], *, base_url: str) -> Reply:
        errors = validate(SUBMIT, body)
        if errors:
            return Reply(422, envelope.invalid(errors=[e.as_dict() for e in errors], body=body))
        request = _normalised(with_defaults(SUBMIT, body))
        timing = self.latency(request, self._rng)
        result = self._generate(body, request, timing, base_url=self.config.public_url or base_url)
        if not request["celery"]:
            return Reply(200, result, delay=timing.total)
        task_id = self._new_uuid()
        self.tasks.add(Task(id=task_id, ready_at=self.clock.now() + timing.total, result=result))
        return Reply(200, envelope.queued(body=body, task_id=task_id))

    def status(self, body: dict[str, Any]) -> Reply:
        errors = validate(STATUS, body)
        if errors:
            return Reply(422, envelope.invalid(errors=[e.as_dict() for e in errors], body=body))
        result = self.tasks.result_of(body["id"])
        if result is None:
            return Reply(200, envelope.pending_status(task_id=body["id"], ref_id=body.get("refID", "")))
        return Reply(200, result)

    def output(self, name: str) -> OutputImage | None:
        return self._outputs.get(name)

    def reset(self) -> None:
        """Forget every task and output, and restart the seeded sequence of ids."""
        self.tasks.clear()
        self._outputs.clear()
        self._rng = random.Random(self.config.seed)

    def _generate(self, body: dict[str, Any], request: dict[str, Any], timing: Timing, *, base_url: str) -> Envelope:
        width, height = floor_to_multiple_of_8(request["width"]), floor_to_multiple_of_8(request["height"])
        # Bytes depend on the seed and the request only, never on order; one face per reference image.
        face_key = digest(self.config.seed, request["image"])
        request_key = json.dumps(request, sort_keys=True)
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(self.clock.now()))
        result, low_res = [], []
        for index in range(request["batch"]):
            key = digest(self.config.seed, request_key, index)
            # Production names full-size JPEGs `.webp` too; the fake keeps that quirk.
            result.append(self._publish(base_url, f"{stamp}_{self._new_uuid()}.webp", width, height, face_key, key))
            low_res.append(
                self._publish(base_url, f"low_res/{stamp}_{self._new_uuid()}.webp", width, height, face_key, key)
            )
        return envelope.success(
            body=body,
            startup_time=timing.startup_time,
            runtime=timing.runtime,
            result=result,
            nsfw=[False] * len(result),
            low_res_urls=low_res,
        )

    def _publish(self, base_url: str, name: str, width: int, height: int, face_key: bytes, key: bytes) -> str:
        kind: Kind = "low_res" if name.startswith("low_res/") else "full"
        self._outputs[name] = OutputImage(width, height, face_key, key, kind)
        while len(self._outputs) > _MAX_OUTPUTS:
            self._outputs.popitem(last=False)
        return f"{base_url.rstrip('/')}/outputs/{name}"

    def _new_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


_INTEGER_FIELDS = frozenset(rule.name for rule in field_rules(SUBMIT) if rule.type == "integer")


def _normalised(request: dict[str, Any]) -> dict[str, Any]:
    # JSON Schema counts 512.0 as an integer; the backend uses it as 512.
    return {k: int(v) if k in _INTEGER_FIELDS else v for k, v in request.items()}
