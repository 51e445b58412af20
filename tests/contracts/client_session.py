"""A client's session with the API, as the recordings in these tests capture it, and its answers made comparable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.conftest import valid_body

# The token of the recorded sessions: nothing a recording becomes may hold it.
SECRET = "sk-traffic-5e2d-never-written"


def script(base_url: str, advance: Callable[[float], Any], token: str = SECRET) -> list[httpx.Response]:
    """The client under record: a sync success, a queued task polled to SUCCESS, a queued task that fails,
    an invalid body, and a request without a token."""
    answers = []
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as client:
        answers.append(client.post("/getImagetoImage", json=valid_body(), headers={"X-Mock-Latency": "none"}))
        queued = client.post("/getImagetoImage", json=valid_body(celery=True))
        answers += [queued, client.post("/getImage", json={"id": queued.json()["task_id"]})]
        advance(20)
        answers.append(client.post("/getImage", json={"id": queued.json()["task_id"]}))
        no_face = valid_body(celery=True, prompt="a face the GPU will not find")
        failing = client.post("/getImagetoImage", json=no_face, headers={"X-Mock-Fault": "no_face"})
        advance(20)
        answers += [failing, client.post("/getImage", json={"id": failing.json()["task_id"]})]
        answers.append(client.post("/getImagetoImage", json=valid_body(batch=9), headers={"X-Mock-Latency": "none"}))
    answers.append(httpx.post(base_url + "/getImage", json={"id": "x"}, timeout=10))
    return answers


def comparable(response: httpx.Response) -> tuple[int, Any]:
    """The answer with what changes every run taken out: task ids, and output URLs down to their file names."""

    def plain(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: plain(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v, key) for v in value]
        if key in ("task_id", "id") and isinstance(value, str):
            return "<task id>"
        return value.rsplit("/", 1)[-1] if isinstance(value, str) and value.startswith("http") else value

    return response.status_code, plain(response.json())


def session_with_image(
    base_url: str, advance: Callable[[float], Any], token: str = SECRET, *, through: bool = False
) -> list[httpx.Response]:
    """`script`, then the first image of the first SUCCESS fetched as a client fetches it: without the token
    (`through`: from `base_url`, a proxy, rather than the host the answer named)."""
    answers = script(base_url, advance, token)
    done = next(a.json() for a in answers if a.status_code == 200 and a.json().get("status") == "SUCCESS")
    url = done["output"]["result"][0]
    return [*answers, httpx.get(base_url + urlsplit(url).path if through else url, timeout=10)]
