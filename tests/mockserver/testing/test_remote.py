"""RemoteApi: what only a fake can do names itself, and a request that would steer a fake never leaves."""

from __future__ import annotations

from typing import NoReturn

import httpx
import pytest

from mockserver.testing.client_journal import RecordingTransport
from mockserver.testing.remote import RemoteApi, SteeringUnavailable


@pytest.mark.parametrize(
    ("steer", "reason"),
    [
        (lambda api: api.advance(2), "advance(2) moves the fake's clock"),
        (lambda api: api.set_fault("http_429"), "set_fault('http_429') injects faults into the fake"),
        (lambda api: api.set_latency("fixed:1s"), "set_latency('fixed:1s') sets the fake's latency"),
        (lambda api: api.backend, "backend is the fake's own state"),
        (lambda api: api.clock, "clock is the fake's clock"),
        (lambda api: api.tasks, "tasks are the fake's own state"),
    ],
)
def test_steering_names_itself(steer: object, reason: str) -> None:
    with pytest.raises(SteeringUnavailable) as refused:
        steer(RemoteApi("https://api.example.com/v1"))  # type: ignore[operator]

    assert str(refused.value) == reason


@pytest.mark.parametrize(
    ("path", "headers", "reason"),
    [
        ("/__admin/faults", {}, "admin call POST /v1/__admin/faults steers the fake"),
        ("/getImage", {"X-Mock-Fault": "http_500"}, "header x-mock-fault steers the fake"),
    ],
)
def test_a_request_that_steers_is_refused_before_it_is_sent(path: str, headers: dict[str, str], reason: str) -> None:
    reasons: list[str] = []

    def on_steer(why: str) -> NoReturn:
        reasons.append(why)
        raise SteeringUnavailable(why)

    api = RemoteApi("https://api.example.com/v1", on_steer=on_steer)
    sent: list[httpx.Request] = []
    inner = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    with httpx.Client(transport=RecordingTransport(inner, api.recorded), base_url=api.url) as client:
        with pytest.raises(SteeringUnavailable):
            client.post(path, headers=headers, json={})

    assert reasons == [reason] and sent == []


def test_reset_forgets_the_client_side_journal() -> None:
    api = RemoteApi("https://api.example.com/v1")
    inner = httpx.MockTransport(lambda request: httpx.Response(200))
    with httpx.Client(transport=RecordingTransport(inner, api.recorded)) as client:
        client.get("https://api.example.com/v1/x")

    api.reset()

    assert len(api.journal) == 0
