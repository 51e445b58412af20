"""A small, realistic client of Qolaba's Face Consistency API: submit a queued job, poll it, download the images.

It is what `tests/examples/test_face_client.py` tests with the qolaba-mock fixtures, the way a user would.

Usage:
    async with FaceClient("https://qolaba-server-b2b.up.railway.app/api/v1/studio", token) as client:
        images = await client.generate({"app_id": "ap-SwsTOsD7STxJ0obCkskUHw", "prompt": "...", ...})
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

# Answers that mean "not now": the same request may be sent again later.
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class QolabaError(Exception):
    """Base of everything this client raises."""


class Rejected(QolabaError):
    """The API refused the request itself (bad input, bad token): sending it again will not help."""


class GenerationFailed(QolabaError):
    """The job ran and failed; `error` and `error_data` are the API's words."""

    def __init__(self, error: str, error_data: Any) -> None:
        super().__init__(f"{error}: {error_data}")
        self.error, self.error_data = error, error_data


class Unavailable(QolabaError):
    """The API kept failing (errors, broken connections) beyond the retry budget, or a submit's fate is unknown."""


class DeadlineExceeded(QolabaError):
    """The task was still not finished when the deadline came."""


@dataclass(frozen=True)
class Images:
    urls: list[str]
    contents: list[bytes]


class FaceClient:
    """Submits with `celery: true`, polls with exponential backoff honouring Retry-After, stops at a deadline.

    `sleep` and `clock` are injectable so tests can run on the fake's virtual time.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        http: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        deadline: float = 300.0,
        poll_interval: float = 2.0,
        max_interval: float = 30.0,
        max_retries: int = 4,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owns_http = http is None
        self.http = http or httpx.AsyncClient(timeout=60)
        self.headers = {"Authorization": f"Bearer {token}"}
        self.sleep, self.clock = sleep, clock
        self.deadline, self.poll_interval, self.max_interval = deadline, poll_interval, max_interval
        self.max_retries = max_retries

    async def generate(self, request: dict[str, Any]) -> Images:
        started = self.clock()
        task_id = await self.submit(request)
        urls = await self.wait(task_id, started=started)
        return Images(urls, await self.download(urls))

    async def submit(self, request: dict[str, Any]) -> str:
        """The task id. Retries only answers that say the job did not start, so a job never runs twice."""
        for attempt in range(self.max_retries + 1):
            try:
                response = await self.http.post(
                    f"{self.base_url}/getImagetoImage", json={**request, "celery": True}, headers=self.headers
                )
            except httpx.TransportError as exc:
                # The job may be running already: sending it again could pay for it twice.
                raise Unavailable(f"submit's fate unknown: {exc!r}") from exc
            if response.status_code in RETRYABLE_STATUS:
                if attempt == self.max_retries:
                    raise Unavailable(f"submit: HTTP {response.status_code} after {attempt + 1} tries")
                await self.sleep(self._backoff(attempt, response))
                continue
            body = self._envelope(response)
            if body.get("status") == "FAILED":
                raise GenerationFailed(body.get("error") or "", body.get("error_data"))
            return str(body["task_id"])
        raise AssertionError("unreachable")  # pragma: no cover

    async def wait(self, task_id: str, *, started: float | None = None) -> list[str]:
        """The result URLs, polling until SUCCESS, FAILED or the deadline (counted from `started`)."""
        started = self.clock() if started is None else started
        interval, errors = self.poll_interval, 0
        while self.clock() - started < self.deadline:
            delay = interval
            try:
                response = await self.http.post(f"{self.base_url}/getImage", json={"id": task_id}, headers=self.headers)
                body = self._envelope(response) if response.status_code not in RETRYABLE_STATUS else None
            except (httpx.TransportError, Unavailable):
                response, body = None, None
            if body is None:
                errors += 1
                if errors > self.max_retries:
                    raise Unavailable(f"task {task_id}: {errors} failed polls in a row")
                delay = self._backoff(errors - 1, response)
            elif body["status"] == "SUCCESS":
                return list(body["output"]["result"])
            elif body["status"] == "FAILED":
                raise GenerationFailed(body.get("error") or "", body.get("error_data"))
            else:
                errors, interval = 0, min(interval * 2, self.max_interval)
            remaining = self.deadline - (self.clock() - started)
            await self.sleep(min(delay, max(remaining, 0.0)))
        raise DeadlineExceeded(f"task {task_id} not finished after {self.deadline} s")

    async def download(self, urls: list[str]) -> list[bytes]:
        contents = []
        for url in urls:
            response = await self.http.get(url)
            response.raise_for_status()
            contents.append(response.content)
        return contents

    def _envelope(self, response: httpx.Response) -> dict[str, Any]:
        if 400 <= response.status_code < 500:
            raise Rejected(f"HTTP {response.status_code}: {response.text[:200]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise Unavailable(f"unreadable answer: {response.text[:80]!r}") from exc
        if not isinstance(body, dict) or "status" not in body:
            raise Unavailable(f"not the API's envelope: {response.text[:80]!r}")
        return body

    def _backoff(self, attempt: int, response: httpx.Response | None) -> float:
        delay = min(self.poll_interval * 2.0**attempt, self.max_interval)
        retry_after = "" if response is None else str(response.headers.get("Retry-After", ""))
        return max(delay, float(retry_after)) if retry_after.isdigit() else delay

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> FaceClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
