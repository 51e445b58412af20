"""Output images rendered within a memory budget (README, "Limits"), the same for every app in the process.

- At most RENDER_SLOTS renders run at once, on a pool of that many threads of their own: each thread that
  renders keeps a malloc arena sized to its largest render, so few threads keep few arenas (on Starlette's
  pool of 40, a burst of large renders left gigabytes behind).
- A request for an image already being rendered waits for that render rather than start a second one.
- Others wait for a slot: at most MAX_WAITING of them, each at most WAIT_SECONDS; beyond either they are
  answered 503 with `Retry-After` (RenderBusy), having allocated nothing. A wait ends early when its client
  leaves, or with the shutdown 503 when the server drains.
- Recent answers are kept, CACHE_BYTES in all, and the answers being sent hold at most SENDING_BYTES of
  distinct bytes (a client that reads slowly keeps its answer alive): past that, 503 with `Retry-After` too.

Every structure here may be touched from several event loops (in-process use) and from the render threads,
hence one lock; waiters are woken on their own loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from starlette.types import Receive

from mockserver.http.body_reader import until_disconnect
from mockserver.http.shutdown import Drain
from mockserver.wire.images import OutputImage, render

RENDER_SLOTS = 2
MAX_WAITING = 64
WAIT_SECONDS = 60.0
CACHE_BYTES = 64 << 20  # not a contract bound
SENDING_BYTES = 128 << 20  # not a contract bound
# What a refused request is told to wait: about one large render.
RETRY_AFTER_SECONDS = 5


class RenderBusy(Exception):
    """Too many renders already running and waiting, or too many bytes being sent: come back later."""


class ServerDraining(Exception):
    """The server began shutting down while the request waited for a slot."""


class ClientLeft(Exception):
    """The client left while its request waited for a slot."""


class RenderBudget:
    """Usage: `data = await RENDERS.render(image, receive, drain)`, then `with RENDERS.sending(data): ...`."""

    def __init__(
        self,
        *,
        slots: int = RENDER_SLOTS,
        max_waiting: int = MAX_WAITING,
        wait_seconds: float = WAIT_SECONDS,
        cache_bytes: int = CACHE_BYTES,
        sending_bytes: int = SENDING_BYTES,
        renderer: Callable[[OutputImage], bytes] = render,
    ) -> None:
        self.slots, self.max_waiting, self.wait_seconds = slots, max_waiting, wait_seconds
        self.cache_bytes, self.sending_bytes = cache_bytes, sending_bytes
        self._renderer = renderer
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._busy = 0
        self._waiters: list[asyncio.Future[None]] = []
        self._running: dict[OutputImage, Future[bytes]] = {}
        self._cache: OrderedDict[OutputImage, bytes] = OrderedDict()
        self._cached = 0
        # Answers being sent, by the identity of their bytes (a cached answer sent to many is counted once).
        self._sending: dict[int, tuple[bytes, int]] = {}
        self._sent_bytes = 0

    @property
    def running(self) -> int:
        return self._busy

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    async def render(self, image: OutputImage, receive: Receive, drain: Drain) -> bytes:
        """The image's bytes; RenderBusy, ServerDraining or ClientLeft when it cannot have them."""
        with self._lock:
            found = self._found(image)
        if found is None:
            await self._take_slot(receive, drain)
            started = None
            with self._lock:
                found = self._found(image)  # finished, or started, while this one waited
                if found is None:
                    if self._executor is None:
                        self._executor = ThreadPoolExecutor(self.slots, thread_name_prefix="qolaba-mock-render")
                    found = started = self._running[image] = self._executor.submit(self._renderer, image)
                else:
                    self._release_slot_locked()
            if started is not None:
                # Outside the lock: a render already done calls back at once, on this thread.
                started.add_done_callback(lambda done: self._finished(image, done))
        if isinstance(found, bytes):
            return found
        # Shielded: a client that leaves must not cancel a render others wait for.
        return await asyncio.shield(asyncio.wrap_future(found))

    def sending(self, data: bytes) -> _Sending:
        """Holds `data` against SENDING_BYTES while its answer goes out; RenderBusy if it does not fit."""
        return _Sending(self, data)

    def _found(self, image: OutputImage) -> bytes | Future[bytes] | None:
        cached = self._cache.get(image)
        if cached is not None:
            self._cache.move_to_end(image)
            return cached
        return self._running.get(image)

    async def _take_slot(self, receive: Receive, drain: Drain) -> None:
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + self.wait_seconds
        while True:
            with self._lock:
                if self._busy < self.slots:
                    self._busy += 1
                    return
                if len(self._waiters) >= self.max_waiting:
                    raise RenderBusy
                turn: asyncio.Future[None] = loop.create_future()
                self._waiters.append(turn)
            await self._wait_turn(turn, give_up_at - loop.time(), receive, drain)

    async def _wait_turn(self, turn: asyncio.Future[None], seconds: float, receive: Receive, drain: Drain) -> None:
        drained = drain.signal()
        left = asyncio.ensure_future(until_disconnect(receive))
        try:
            done, _ = await asyncio.wait(
                {turn, drained, left}, timeout=max(0.0, seconds), return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waited in (turn, drained, left):
                waited.cancel()
            with self._lock:
                if turn in self._waiters:
                    self._waiters.remove(turn)
        if drained in done:
            raise ServerDraining
        if left in done:
            raise ClientLeft
        if turn not in done:
            raise RenderBusy

    def _finished(self, image: OutputImage, done: Future[bytes]) -> None:
        # On the render thread (or at once, if the render had already ended).
        with self._lock:
            del self._running[image]
            if not done.cancelled() and done.exception() is None:
                self._keep(image, done.result())
            self._release_slot_locked()

    def _release_slot_locked(self) -> None:
        self._busy -= 1
        # Every waiter tries again (few, and only under load): one that has left cannot hold up the others.
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            try:
                waiter.get_loop().call_soon_threadsafe(_wake, waiter)
            except RuntimeError:  # its loop is closed
                pass

    def _keep(self, image: OutputImage, data: bytes) -> None:
        if len(data) > self.cache_bytes // 4:
            return  # one answer may not crowd out the rest
        self._cache[image] = data
        self._cached += len(data)
        while self._cached > self.cache_bytes:
            _, dropped = self._cache.popitem(last=False)
            self._cached -= len(dropped)


class _Sending:
    def __init__(self, budget: RenderBudget, data: bytes) -> None:
        self.budget, self.data = budget, data

    def __enter__(self) -> None:
        budget, key = self.budget, id(self.data)
        with budget._lock:
            held = budget._sending.get(key)
            if held is None:
                if budget._sent_bytes + len(self.data) > budget.sending_bytes and budget._sending:
                    raise RenderBusy
                budget._sent_bytes += len(self.data)
                budget._sending[key] = (self.data, 1)
            else:
                budget._sending[key] = (self.data, held[1] + 1)

    def __exit__(self, *_: object) -> None:
        budget, key = self.budget, id(self.data)
        with budget._lock:
            data, count = budget._sending[key]
            if count > 1:
                budget._sending[key] = (data, count - 1)
            else:
                del budget._sending[key]
                budget._sent_bytes -= len(data)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# The process's one budget: the render threads and their memory are the process's, whichever app asks.
RENDERS = RenderBudget()
