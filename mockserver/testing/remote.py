"""RemoteApi: a test's handle where the API is not ours to steer (the real API, under `--qolaba-target=api`).

It stands where `QolabaMock` stands, so one test body runs against either: the journal (recorded on the
client's side, mockserver/testing/client_journal.py), the verdicts, transports and a respx router that reach
the API. What only a fake can do (move its clock, inject faults or latency, show its backend, answer admin
calls or `X-Mock-*` steering headers) calls `on_steer` with one line naming the steering; the pytest plugin
turns that into a skip of the test at that point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal, NoReturn

import httpx
import respx

from contracts.spec.schema import production_base_url
from mockserver.sim.journal import Journal
from mockserver.testing.client_journal import ClientJournal, RecordingAsyncTransport, RecordingTransport
from mockserver.testing.forwarding import forwarding_router, network_transports
from mockserver.testing.verdicts import Verdicts

# Where the fake's admin API lives; a call there steers the fake.
ADMIN_PREFIX = "/__admin"
STEERING_HEADER_PREFIX = "x-mock-"


class SteeringUnavailable(Exception):
    """A test asked for steering only a fake offers; the message is one line naming it."""


def _refuse(reason: str) -> NoReturn:
    raise SteeringUnavailable(reason)


class RemoteApi(Verdicts):
    """The handle on an API reached over the network, with a client-side journal and no steering.

    Usage:
        api = RemoteApi("https://…/api/v1/studio")
        async with httpx.AsyncClient(transport=api.async_transport(), base_url=api.url) as client:
            await client.post("/getImage", json={"id": task_id})
        api.assert_polls_no_faster_than(1.0)
    """

    journal_clock = "the client's monotonic clock"

    def __init__(
        self,
        url: str,
        *,
        recorded: ClientJournal | None = None,
        on_steer: Callable[[str], NoReturn] = _refuse,
    ) -> None:
        self.url = url.rstrip("/")
        self.recorded = recorded if recorded is not None else ClientJournal()
        self._on_steer = on_steer
        self.recorded.sending.insert(0, self._refuse_steering_requests)

    @property
    def journal(self) -> Journal:
        return self.recorded.journal

    def reset(self) -> None:
        """Forget the client-side journal (nothing else can be reset in an API we do not run)."""
        self.recorded.clear()

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """For `httpx.AsyncClient(transport=...)`: the network, each exchange recorded."""
        return RecordingAsyncTransport(network_transports()[1], self.recorded)

    def transport(self) -> httpx.BaseTransport:
        """For a sync `httpx.Client(transport=...)`: the network, each exchange recorded."""
        return RecordingTransport(network_transports()[0], self.recorded)

    def respx_router(
        self, base_url: str, *, pass_through: Sequence[str] = (), others: Literal["refuse", "pass"] = "refuse"
    ) -> respx.MockRouter:
        """A respx router, not yet started, sending calls under `base_url`, under production's base URL and under
        `self.url` to the API at `self.url`, each recorded: a user's code calling production's URL reaches the
        API the run was pointed at (production itself, or a staging copy). A call elsewhere raises respx's
        `AllMockedAssertionError`, as `QolabaMock.respx_router`'s does, unless `others="pass"`."""
        return forwarding_router(
            (base_url, production_base_url(), self.url),
            self.url,
            transport=self.transport(),
            async_transport=self.async_transport(),
            pass_through=pass_through,
            others=others,
        )

    # What only a fake offers. Each names itself, so the skip says which steering the test used.
    def advance(self, seconds: float) -> float:
        self._on_steer(f"advance({seconds:g}) moves the fake's clock")

    def set_fault(self, *specs: str) -> None:
        self._on_steer(f"set_fault({', '.join(map(repr, specs))}) injects faults into the fake")

    def set_latency(self, spec: str | None) -> None:
        self._on_steer(f"set_latency({spec!r}) sets the fake's latency")

    @property
    def backend(self) -> Any:
        self._on_steer("backend is the fake's own state")

    @property
    def namespace(self) -> Any:
        self._on_steer("namespace is the fake's own state")

    @property
    def clock(self) -> Any:
        self._on_steer("clock is the fake's clock")

    @property
    def tasks(self) -> Any:
        self._on_steer("tasks are the fake's own state")

    @property
    def app(self) -> Any:
        self._on_steer("app is the fake's ASGI app")

    def _refuse_steering_requests(self, request: httpx.Request) -> None:
        path = request.url.path
        if path.startswith(ADMIN_PREFIX) or f"{ADMIN_PREFIX}/" in path:
            self._on_steer(f"admin call {request.method} {path} steers the fake")
        steering = sorted(name for name in request.headers if name.lower().startswith(STEERING_HEADER_PREFIX))
        if steering:
            self._on_steer(f"header {steering[0]} steers the fake")
