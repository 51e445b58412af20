"""One fake, five ways in: in-process, respx (async and sync httpx) and the live server (async and sync httpx).

Each scenario runs against every target; what the client sees and what the journal records must be identical.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any

import httpx
import pytest

from mockserver.testing.handle import QolabaMock
from tests.conftest import AUTH, valid_body

pytestmark = [pytest.mark.anyio, pytest.mark.qolaba(seed=11, latency="fixed:20s")]

Send = Callable[[str, str, dict[str, Any] | None, dict[str, str]], Awaitable[httpx.Response]]
TASK = "<task id>"
FAULTY = {"X-Mock-Fault": ""}

# A step: (method, path, json body, extra headers), ("advance", seconds) or ("fetch", "result" | "low_res_urls").
SCENARIOS: dict[str, list[tuple[Any, ...]]] = {
    "queued_success": [
        ("POST", "/getImagetoImage", valid_body(celery=True, batch=2), {}),
        ("POST", "/getImage", {"id": TASK}, {}),
        ("advance", 20),
        ("POST", "/getImage", {"id": TASK}, {}),
        ("fetch", "result"),
        ("fetch", "low_res_urls"),
    ],
    "sync_success": [("POST", "/getImagetoImage", valid_body(), {"X-Mock-Latency": "none"}), ("fetch", "result")],
    "invalid_and_unauthorised": [
        ("POST", "/getImagetoImage", valid_body(batch=99, width=9), {}),
        ("POST", "/getImage", {"id": "x"}, {"Authorization": ""}),
        ("POST", "/getImage", None, {}),
    ],
    "http_faults": [
        ("POST", "/getImage", {"id": "x"}, {"X-Mock-Fault": f}) for f in ("http_429", "http_503", "http_500")
    ],
    "domain_fault": [
        ("POST", "/getImagetoImage", valid_body(celery=True), {"X-Mock-Fault": "no_face"}),
        ("advance", 20),
        ("POST", "/getImage", {"id": TASK}, {}),
    ],
    "connection_faults": [
        ("POST", "/getImage", {"id": "x"}, {"X-Mock-Fault": f}) for f in ("reset", "empty_response", "malformed_json")
    ],
    "task_lost": [
        ("POST", "/getImagetoImage", valid_body(celery=True), {"X-Mock-Fault": "task_lost"}),
        ("advance", 600),
        ("POST", "/getImage", {"id": TASK}, {}),
    ],
}


@pytest.mark.parametrize(
    "scenario",
    [
        *SCENARIOS,
        pytest.param("rate_limited", marks=pytest.mark.qolaba(rate_limit="2/min")),
    ],
)
async def test_every_target_sees_the_same_fake(
    scenario: str, qolaba_mock: QolabaMock, qolaba_server: QolabaMock, qolaba_base_url: str
) -> None:
    steps = SCENARIOS.get(scenario) or [("POST", "/getImage", {"id": "x"}, {})] * 3
    observed: dict[str, Any] = {}
    for target in ("in_process", "respx_async", "respx_sync", "live_async", "live_sync"):
        mock = qolaba_server if target.startswith("live") else qolaba_mock
        mock.reset()
        base = qolaba_server.url if target.startswith("live") else qolaba_base_url
        assert base is not None
        if target == "in_process":
            async with httpx.AsyncClient(transport=mock.async_transport(), base_url=base) as client:
                observed[target] = await run(steps, mock, async_sender(client))
        elif target.endswith("async"):
            with mock.respx_router(base) if target.startswith("respx") else nullcontext():
                async with httpx.AsyncClient(base_url=base, timeout=5) as client:
                    observed[target] = await run(steps, mock, async_sender(client))
        else:
            with (
                mock.respx_router(base) if target.startswith("respx") else nullcontext(),
                httpx.Client(base_url=base, timeout=5) as sync_client,
            ):
                observed[target] = await run(steps, mock, sync_sender(sync_client))

    assert observed["in_process"]["client"], "the scenario observed nothing"
    for target, seen in observed.items():
        assert seen == observed["in_process"], f"{target} differs from in_process"


async def run(steps: list[tuple[Any, ...]], mock: QolabaMock, send: Send) -> dict[str, Any]:
    seen: list[Any] = []
    task_id, last_body = "", None
    for step in steps:
        if step[0] == "advance":
            mock.advance(step[1])
            continue
        if step[0] == "fetch":
            assert isinstance(last_body, dict)
            for url in last_body["output"][step[1]]:
                response = await send("GET", url, None, {})
                seen.append((response.status_code, response.headers["content-type"], len(response.content)))
            continue
        method, path, body, headers = step
        body = {"id": task_id} if body == {"id": TASK} else body
        try:
            response = await send(method, path, body, {**AUTH, **headers})
        except httpx.TransportError:
            seen.append("connection broken")
            continue
        try:
            last_body = response.json()
        except ValueError:
            seen.append((response.status_code, "unreadable body"))
            continue
        task_id = last_body.get("task_id") or task_id
        seen.append((response.status_code, response.headers.get("retry-after"), _normalised(last_body)))
    journal = [(e.method, _path(e.path), e.status, e.fault) for e in mock.journal]
    return {"client": seen, "journal": journal}


def async_sender(client: httpx.AsyncClient) -> Send:
    async def send(method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> httpx.Response:
        headers = {k: v for k, v in headers.items() if v}
        if body is None and method == "POST":
            return await client.post(path, content=b"not json", headers=headers)
        return await client.request(method, path, json=body, headers=headers)

    return send


def sync_sender(client: httpx.Client) -> Send:
    async def send(method: str, path: str, body: dict[str, Any] | None, headers: dict[str, str]) -> httpx.Response:
        headers = {k: v for k, v in headers.items() if v}
        if body is None and method == "POST":
            return client.post(path, content=b"not json", headers=headers)
        return client.request(method, path, json=body, headers=headers)

    return send


_OUTPUT_NAME = re.compile(r"https?://[^\s\"']+?/outputs/")


def _normalised(body: Any) -> Any:
    text = repr(body)
    text = _OUTPUT_NAME.sub("<base>/outputs/", text)
    return re.sub(r"outputs/(low_res/)?[\w.-]+", r"outputs/\1<name>", text)


def _path(path: str) -> str:
    path = path.removeprefix("/api/v1/studio")
    return re.sub(r"outputs/(low_res/)?[\w.-]+", r"outputs/\1<name>", path)
