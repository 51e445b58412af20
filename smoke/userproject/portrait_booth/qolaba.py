"""Portrait Booth's client of Qolaba's Face Consistency API: what qolaba-mock stands in for in its tests."""

from __future__ import annotations

from typing import Any

import httpx

API = "https://qolaba-server-b2b.up.railway.app/api/v1/studio"


class QolabaError(Exception):
    pass


class NotAuthenticated(QolabaError):
    pass


class Refused(QolabaError):
    """The API refused the request; `fields` names what it objected to."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(f"refused: {', '.join(fields)}")
        self.fields = fields


class GenerationFailed(QolabaError):
    pass


def portrait_request(face_url: str, prompt: str, *, width: int = 512, height: int = 768) -> dict[str, Any]:
    return {
        "app_id": "ap-SwsTOsD7STxJ0obCkskUHw",
        "image": face_url,
        "prompt": prompt,
        "batch": 1,
        "height": height,
        "width": width,
        "num_inference_steps": 30,
        "guidance_scale": 7.5,
        "strength": 1,
    }


def _envelope(response: httpx.Response) -> dict[str, Any]:
    if response.status_code in (401, 403):
        raise NotAuthenticated(response.text)
    body: dict[str, Any] = response.json()
    if response.status_code == 422:
        raise Refused([entry["field"] for entry in body["error_data"]])
    response.raise_for_status()
    if body["status"] == "FAILED":
        raise GenerationFailed(f"{body['error']}: {body['error_data']}")
    return body


async def submit(http: httpx.AsyncClient, request: dict[str, Any]) -> dict[str, Any]:
    """Send a request as it is; the API's answer."""
    return _envelope(await http.post("/getImagetoImage", json=request))


async def queue_portrait(http: httpx.AsyncClient, request: dict[str, Any]) -> str:
    """Submit a queued job; its task id."""
    return str((await submit(http, {**request, "celery": True}))["task_id"])


async def portrait_status(http: httpx.AsyncClient, task_id: str) -> tuple[str, list[str]]:
    """(status, image URLs) of a queued job."""
    body = _envelope(await http.post("/getImage", json={"id": task_id}))
    return body["status"], list(body["output"].get("result", []))


def portrait_now(token: str, request: dict[str, Any]) -> list[str]:
    """A sync call with a plain httpx.Client, as the booth's admin script makes it: the image URLs."""
    with httpx.Client(base_url=API, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        return list(_envelope(http.post("/getImagetoImage", json=request))["output"]["result"])
