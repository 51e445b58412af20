"""QolabaMock: a test's handle on a fake, the httpx/respx wiring to reach it, and verdicts on the client (no pytest)."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import respx

from mockserver.behaviour.clock import Clock, VirtualClock
from mockserver.behaviour.faults import parse_fault
from mockserver.behaviour.latency import parse_latency
from mockserver.server.live_server import LiveServer
from mockserver.sim.backend import Backend
from mockserver.sim.journal import Journal
from mockserver.sim.namespaces import DEFAULT, Namespace
from mockserver.sim.tasks import TaskStore
from mockserver.testing.inprocess import AsyncTransport, SyncTransport
from mockserver.testing.url_prefixes import prefix_pattern, url_prefixes
from mockserver.testing.verdicts import Verdicts

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from anyio.from_thread import BlockingPortal
    from starlette.applications import Starlette


class QolabaMock(Verdicts):
    """A test's handle on one fake (in-process app or LiveServer): steer it, read its journal, judge the client.

    Usage:
        mock = QolabaMock(create_app(Config(seed=1), clock=VirtualClock()))
        async with httpx.AsyncClient(transport=mock.async_transport(), base_url="http://testserver") as client:
            task_id = (await client.post("/getImagetoImage", json=body)).json()["task_id"]
            mock.advance(40)
        mock.assert_called("/getImagetoImage", times=1)
    """

    def __init__(self, target: Starlette | LiveServer, *, namespace: str = DEFAULT) -> None:
        self.server = target if isinstance(target, LiveServer) else None
        self.app: Starlette = target.app if isinstance(target, LiveServer) else target
        # The live server's base URL, or None in-process.
        self.url = target.url if isinstance(target, LiveServer) else None
        self._namespace = namespace
        self._portal: BlockingPortal | None = None
        self._portal_context: AbstractContextManager[BlockingPortal] | None = None
        self._portal_lock = threading.Lock()

    @property
    def backend(self) -> Backend:
        backend: Backend = self.app.state.backend
        return backend

    @property
    def namespace(self) -> Namespace:
        return self.backend.namespaces.get(self._namespace)

    @property
    def journal(self) -> Journal:
        return self.namespace.journal

    @property
    def clock(self) -> Clock:
        return self.namespace.clock

    @property
    def tasks(self) -> TaskStore:
        return self.namespace.tasks

    def advance(self, seconds: float) -> float:
        """Move the fake's virtual clock forward (waking anything it delays); returns the new time."""
        clock = self.clock
        if not isinstance(clock, VirtualClock):
            raise TypeError(
                f"advance() needs a virtual clock, and this fake runs on {type(clock).__name__}: "
                "build it with Config(clock='virtual') or create_app(config, clock=VirtualClock())"
            )
        return clock.advance(seconds)

    def set_fault(self, *specs: str) -> None:
        """Replace the configured faults, e.g. `set_fault("http_429:first:2@status")`; no specs: no faults."""
        self.namespace.set_faults(tuple(parse_fault(spec) for spec in specs))

    def set_latency(self, spec: str | None) -> None:
        """Replace the configured latency, e.g. `set_latency("fixed:20s")`; None goes back to the config's."""
        limit = self.backend.config.max_latency
        self.namespace.set_latency(None if spec is None else parse_latency(spec, limit=limit).spec)

    def reset(self) -> None:
        """Forget journal, tasks and outputs, drop faults and latency set since, restart the seeded sequences."""
        for space in self.backend.namespaces:
            space.set_faults(None)
            space.set_latency(None)
            space.reseed(self.backend.config.seed)
        self.backend.reset("all")

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """For `httpx.AsyncClient(transport=...)`: the app in the caller's event loop."""
        return AsyncTransport(self.app)

    def transport(self) -> httpx.BaseTransport:
        """For a sync `httpx.Client(transport=...)`: the app on a background event loop, one call at a time.

        A call the fake holds moves a virtual clock to the end of the hold by itself (the caller's thread is
        blocked, so it cannot advance it); past the client's read timeout it raises `httpx.ReadTimeout`.
        """
        return SyncTransport(AsyncTransport(self.app), self._blocking_portal())

    def respx_router(self, base_url: str, *, pass_through: Sequence[str] = ()) -> respx.MockRouter:
        """A respx router, not yet started, sending every call under `base_url` to this fake, from sync or async httpx.

        A call under one of the `pass_through` URL prefixes goes to the real network. Any other call raises
        `respx.models.AllMockedAssertionError` (respx's `assert_all_mocked`): no request leaves the test unnoticed.

        Usage:
            with mock.respx_router(API, pass_through=["http://127.0.0.1:8000"]):
                httpx.post(f"{API}/getImage", json=...)  # the fake
                httpx.get("http://127.0.0.1:8000/health")  # the real server on 8000
        """
        passed = url_prefixes(pass_through)
        prefix = base_url.rstrip("/")
        # The base path becomes the ASGI root_path, so output URLs come back under `base_url` and route here too.
        root_path = urlsplit(prefix).path
        async_transport = AsyncTransport(self.app, root_path=root_path)

        def forward(request: httpx.Request) -> Any:
            if RESOLVING_SYNC.get():
                return SyncTransport(async_transport, self._blocking_portal()).handle_request(request)
            return async_transport.handle_async_request(request)

        router = Router(assert_all_called=False, assert_all_mocked=True)
        # Routes match in order: the fake's first, so a pass-through prefix above the base URL never takes its calls.
        router.route(url__regex=prefix_pattern(prefix), name="qolaba").mock(side_effect=forward)
        for index, passed_prefix in enumerate(passed):
            router.route(url__regex=prefix_pattern(passed_prefix), name=f"pass_through_{index}").pass_through()
        return router

    def close(self) -> None:
        """Stop the background event loop that sync clients use, if one was started."""
        with self._portal_lock:
            if self._portal is not None and self._portal_context is not None:
                # A call still running (its test was interrupted, e.g. by Ctrl-C) is cancelled rather than
                # waited for: a held call could otherwise keep the portal's thread, and the test run, alive.
                with contextlib.suppress(RuntimeError):  # the portal has stopped already
                    self._portal.call(self._portal.stop, True)
                self._portal_context.__exit__(None, None, None)
            self._portal = self._portal_context = None

    def __enter__(self) -> QolabaMock:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _blocking_portal(self) -> BlockingPortal:
        from anyio.from_thread import start_blocking_portal

        with self._portal_lock:
            if self._portal is None:
                self._portal_context = start_blocking_portal()
                self._portal = self._portal_context.__enter__()
            return self._portal


# respx answers sync clients from `Router.resolve` and async ones from `Router.aresolve`; one route serves both,
# so the router tells its side effect which path it is on.
RESOLVING_SYNC: contextvars.ContextVar[bool] = contextvars.ContextVar("qolaba_mock_resolving_sync", default=False)


class Router(respx.MockRouter):
    def resolve(self, request: httpx.Request) -> Any:
        token = RESOLVING_SYNC.set(True)
        try:
            return super().resolve(request)
        finally:
            RESOLVING_SYNC.reset(token)
