"""A shutdown closes no connection that is owed an answer: what the server has read whole is answered first,
even when that takes longer than uvicorn's own grace period (a starved machine, a render still running)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from mockserver import Config
from mockserver.http import routes
from mockserver.http.render_budget import RenderBudget
from mockserver.server import draining
from mockserver.server.live_server import LiveServer
from tests.conftest import AUTH, valid_body
from tests.mockserver.http.test_render_budget import GatedRenderer

HARD_CAP = 20.0


def wait_for(condition: object) -> None:
    deadline = time.monotonic() + HARD_CAP
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "never got there"
        time.sleep(0.01)  # polling the server's state, which a server thread changes


def test_a_request_read_whole_is_answered_before_the_shutdown_closes_its_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # uvicorn alone would cancel the render's request at once: no grace at all.
    monkeypatch.setattr(draining, "GRACE_SECONDS", 0)
    renderer = GatedRenderer()
    monkeypatch.setattr(routes, "RENDERS", RenderBudget(renderer=renderer))
    server = LiveServer(Config()).start()
    with httpx.Client(base_url=server.url, headers=AUTH, timeout=HARD_CAP) as client:
        url = client.post("/getImagetoImage", json=valid_body(width=512)).json()["output"]["result"][0]
        answers: list[httpx.Response | Exception] = []

        def fetch() -> None:
            try:
                answers.append(client.get(url))
            except httpx.HTTPError as exc:
                answers.append(exc)

        fetching = threading.Thread(target=fetch)
        fetching.start()
        wait_for(lambda: renderer.calls == [512])
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        wait_for(lambda: server._server.settling)
        renderer.go.set()
        stopping.join(HARD_CAP)
        fetching.join(HARD_CAP)

    [answer] = answers
    assert isinstance(answer, httpx.Response), answer
    assert (answer.status_code, answer.content) == (200, b"image-512")
