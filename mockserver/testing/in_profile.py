"""The fake in one fidelity profile, in-process, on a virtual clock: what `diff` and the fingerprint hold a
target against.

It answers at once (latency none) and its time moves only when told (`at`, `clock.advance`), so a recording's
timeline or a poll's wait costs no real time.

Usage:
    with fake_in_profile("production", tokens=frozenset({"t1"})) as fake:
        answer = fake.send("POST", "/getImage", headers=bearer("t1"), content=b'{"id": "x"}')
        fake.at(40)   # 40 simulated seconds after the fake started
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from mockserver.app import create_app
from mockserver.behaviour.clock import VirtualClock
from mockserver.config.settings import Config
from mockserver.testing.handle import QolabaMock

# Where the in-process fake is reached; nothing listens there.
BASE_URL = "http://fake"


class FakeInProfile:
    """The fake in `profile` accepting `tokens` (empty: any token), and an httpx client bound to it."""

    def __init__(self, profile: str, tokens: frozenset[str]) -> None:
        self.clock = VirtualClock()
        config = Config(fidelity=profile, tokens=tokens, clock="virtual", latency="none")
        self.mock = QolabaMock(create_app(config, clock=self.clock))
        self.client = httpx.Client(transport=self.mock.transport(), base_url=BASE_URL)
        self.started = self.clock.now()

    def at(self, seconds: float) -> None:
        """Move the fake's clock to `seconds` after it started, if it is not there yet."""
        behind = self.started + seconds - self.clock.now()
        if behind > 0:
            self.clock.advance(behind)

    def send(self, method: str, path: str, *, headers: dict[str, str], content: bytes) -> httpx.Response:
        return self.client.request(method, path, headers=headers, content=content)

    def transport(self) -> httpx.BaseTransport:
        """For another sync client of the same fake (`run_probe(..., transport=fake.transport())`)."""
        return self.mock.transport()

    def close(self) -> None:
        self.client.close()
        self.mock.close()


@contextmanager
def fake_in_profile(profile: str, tokens: frozenset[str] = frozenset()) -> Iterator[FakeInProfile]:
    """The fake in `profile`, closed on leaving the block."""
    fake = FakeInProfile(profile, tokens)
    try:
        yield fake
    finally:
        fake.close()
