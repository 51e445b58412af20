"""Deliberately drifted variants of the fake: each breaks one rule of the contract, and says which.

Most are small ASGI wrappers around the faithful fake that bend what crosses them: the request on its
way in (a widened range: the wrapper clamps the value into the contract before the fake sees it, then
puts the client's value back into the echoed `input`) or the JSON envelope on its way out. Image bytes
under /outputs and the admin API under /__admin pass through untouched, and each wrapper exposes the
fake's `state`, so `QolabaMock(app).journal` reads what the fake itself saw. Connection faults
(`reset`, `empty_response`) surface as exceptions behind a wrapper even under uvicorn: the fake can
no longer reach the server's socket through the wrapper's `send`.

Usage:
    drift = DRIFTS["batch_max_widened"]
    with httpx.Client(transport=handle(drift.build()).transport(), base_url="http://fake", headers=AUTH) as c: ...
    with live(drift) as server: ...  # the same variant over a socket
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts import SUBMIT, field_rule
from mockserver import Config, create_app
from mockserver.server.live_server import LiveServer
from mockserver.testing.handle import QolabaMock
from mockserver.wire import envelope
from tests.conftest import TOKEN

SEED = 11
CONFIG = Config(seed=SEED, tokens=frozenset({TOKEN}))


def faithful() -> Starlette:
    """The fake as it ships, with one accepted token (so made-up credentials are refused)."""
    return create_app(CONFIG)


FAITHFUL: Callable[[], Starlette] = faithful


@dataclass(frozen=True)
class Drift:
    """One drifted variant of the fake.

    `broken_rule` names what a checker should report. `probe_row` is the (field, rule) row of
    `qolaba-mock probe` that must show the drift, or None when the drift is not in the request rules.
    """

    name: str
    description: str
    broken_rule: str
    build: Callable[[], ASGIApp]
    probe_row: tuple[str, str] | None = None


@dataclass
class Exchange:
    """One API call as a wrapper sees it: the client's request body, and the response it may rewrite."""

    path: str
    request: Any
    status: int
    body: Any
    content_type: str = "application/json"


RequestBend = Callable[[dict[str, Any]], dict[str, Any]]
ResponseBend = Callable[[Exchange], None]


class DriftedApp:
    """The faithful fake behind a wrapper that bends requests on the way in and JSON envelopes on the way out."""

    def __init__(
        self, inner: Starlette, *, request: RequestBend | None = None, response: ResponseBend | None = None
    ) -> None:
        self.inner = inner
        self.state = inner.state
        self._bend_request = request
        self._bend_response = response

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__admin"):
            await self.inner(scope, receive, send)
            return
        raw = await _read_body(receive)
        sent = _json(raw)
        if self._bend_request is not None and isinstance(sent, dict):
            raw = json.dumps(self._bend_request(copy.deepcopy(sent))).encode()
            scope = {**scope, "headers": _with_length(scope["headers"], len(raw))}
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if _media_type(message) != "application/json":  # images and the like pass through
                    await send(message)
                return
            if start is None or _media_type(start) != "application/json" or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                exchange = Exchange(scope["path"], sent, start["status"], _json(b"".join(chunks)))
                if self._bend_response is not None and exchange.body is not None:
                    self._bend_response(exchange)
                await _send_json(send, start, exchange)

        await self.inner(scope, replay, capture)


def handle(app: ASGIApp) -> QolabaMock:
    """A QolabaMock on a drifted (or faithful) app: it needs only ASGI and the fake's `state` from it."""
    return QolabaMock(cast(Starlette, app))


def live(drift: Drift) -> LiveServer:
    """The variant behind a real socket; use as `with live(drift) as server: ... server.url`."""
    return LiveServer(CONFIG, app=drift.build())


# Request bends: the client's value is clamped into the contract before the fake validates it.


def _bent(bend: RequestBend) -> Callable[[], ASGIApp]:
    def build() -> ASGIApp:
        # task id -> the client's submit body, so the finished task's echo shows what the client sent, too.
        sent_by_task: dict[str, dict[str, Any]] = {}

        def restore(exchange: Exchange) -> None:
            body, request = exchange.body, exchange.request
            if not isinstance(body, dict) or not isinstance(request, dict):
                return
            original: dict[str, Any] | None = request
            if exchange.path.lower().endswith("/getimagetoimage") and isinstance(body.get("task_id"), str):
                sent_by_task[body["task_id"]] = request
            elif exchange.path.endswith("/getImage"):
                original = sent_by_task.get(str(request.get("id")))
            echoed = body.get("input")
            if original is None or not isinstance(echoed, dict):
                return
            bent = bend(copy.deepcopy(original))
            for name in set(original) | set(bent):
                if name not in original:
                    echoed.pop(name, None)
                elif bent.get(name) != original[name]:
                    echoed[name] = original[name]

        return DriftedApp(faithful(), request=bend, response=restore)

    return build


def contract_bound(name: str, keyword: str) -> float:
    """A bound the contract states, e.g. `contract_bound("batch", "maximum")`; fails if it states none."""
    value: float | None = getattr(field_rule(SUBMIT, name), keyword)
    assert value is not None, f"the contract states no {keyword} for {name}"
    return value


def _clamp(name: str, keyword: str, widened_to: float) -> RequestBend:
    bound = contract_bound(name, keyword)

    def bend(body: dict[str, Any]) -> dict[str, Any]:
        value = body.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = sorted((bound, widened_to))
            if low <= value <= high:
                body[name] = bound
        return body

    return bend


def _defaulted(name: str) -> RequestBend:
    # A required field gets a default when absent (the backend's other image-to-image models default strength).
    default = contract_bound(name, "maximum")

    def bend(body: dict[str, Any]) -> dict[str, Any]:
        body.setdefault(name, default)
        return body

    return bend


def _case_insensitive(name: str) -> RequestBend:
    members = field_rule(SUBMIT, name).enum or ()

    def bend(body: dict[str, Any]) -> dict[str, Any]:
        value = body.get(name)
        if isinstance(value, str) and value.lower() in members:
            body[name] = value.lower()
        return body

    return bend


# Response bends: the fake answers faithfully, and the wrapper changes the envelope.


def _responses(bend: ResponseBend) -> Callable[[], ASGIApp]:
    return lambda: DriftedApp(faithful(), response=bend)


def _drop_time_required(exchange: Exchange) -> None:
    if isinstance(exchange.body, dict):
        exchange.body.pop("time_required", None)


def _respell_status(exchange: Exchange) -> None:
    spelled = {"SUCCESS": "Success", "PENDING": "Pending"}
    if isinstance(exchange.body, dict) and exchange.body.get("status") in spelled:
        exchange.body["status"] = spelled[exchange.body["status"]]


def _respell_finished_task(exchange: Exchange) -> None:
    if exchange.path.endswith("/getImage") and isinstance(exchange.body, dict) and exchange.body["status"] == "SUCCESS":
        exchange.body["status"] = "DONE"


def _success_output(exchange: Exchange) -> dict[str, Any] | None:
    body = exchange.body
    if isinstance(body, dict) and body.get("status") == "SUCCESS" and isinstance(body.get("output"), dict):
        return cast(dict[str, Any], body["output"])
    return None


def _extra_image(exchange: Exchange) -> None:
    output = _success_output(exchange)
    if output is not None and output["result"]:
        output["result"] = [*output["result"], output["result"][-1]]


def _relative_urls(exchange: Exchange) -> None:
    output = _success_output(exchange)
    if output is not None:
        for key in ("result", "low_res_urls"):
            output[key] = [urlsplit(url).path for url in output[key]]


def _time_as_text(exchange: Exchange) -> None:
    if _success_output(exchange) is not None:
        seconds = sum(exchange.body["time_required"].values())
        exchange.body["time_required"] = f"{seconds:.1f}s"


def _text_plain(exchange: Exchange) -> None:
    exchange.content_type = "text/plain; charset=utf-8"


def _validation_answered_200(exchange: Exchange) -> None:
    if exchange.status == 422:
        exchange.status = 200


def _first_error_only(exchange: Exchange) -> None:
    if exchange.status == 422 and isinstance(exchange.body, dict) and isinstance(exchange.body["error_data"], list):
        exchange.body["error_data"] = exchange.body["error_data"][:1]


def _never_finishes(exchange: Exchange) -> None:
    request = exchange.request
    if exchange.path.endswith("/getImage") and exchange.status == 200 and isinstance(request, dict):
        task_id = str(request.get("id"))
        exchange.body = envelope.pending_status(
            task_id=task_id, echo={"task_id": task_id, "ref_id": str(request.get("refID", ""))}
        )


def _widened(name: str, keyword: str, widened_to: float, description: str) -> Drift:
    drift_name = f"{name}_{'max' if keyword == 'maximum' else 'min'}_widened"
    build = _bent(_clamp(name, keyword, widened_to))
    return Drift(drift_name, description, f"{name} {keyword}", build, probe_row=(name, keyword))


CATALOGUE: tuple[Drift, ...] = (
    _widened("batch", "maximum", contract_bound("batch", "maximum") + 1, "accepts batch = the contract maximum + 1"),
    _widened("height", "minimum", contract_bound("height", "minimum") - 1, "accepts height = the contract minimum - 1"),
    # The backend's own source says ge=0 where the docs say 1: the drift most likely to happen for real.
    _widened("guidance_scale", "minimum", 0, "accepts guidance_scale from 0, as the backend's ge=0 would"),
    Drift(
        "strength_defaulted",
        "a body without strength is accepted (strength defaults to its maximum)",
        "strength required",
        _bent(_defaulted("strength")),
        probe_row=("strength", "required"),
    ),
    Drift(
        "inference_type_case_insensitive",
        "inference_type is matched case-insensitively, so 'A10G' is accepted",
        "inference_type enum",
        _bent(_case_insensitive("inference_type")),
        probe_row=("inference_type", "enum"),
    ),
    Drift(
        "envelope_key_dropped",
        "every JSON answer lacks the time_required key",
        "envelope keys",
        _responses(_drop_time_required),
    ),
    Drift(
        "status_respelled",
        "status reads 'Success' and 'Pending' instead of SUCCESS and PENDING",
        "status value",
        _responses(_respell_status),
    ),
    Drift(
        "auth_not_enforced",
        "any bearer token is accepted (the fake without a token list)",
        "auth enforced",
        lambda: create_app(Config(seed=SEED)),
    ),
    Drift(
        "extra_output_image",
        "a SUCCESS output.result holds one more URL than images generated (len > batch, != low_res_urls)",
        "output lengths",
        _responses(_extra_image),
    ),
    Drift(
        "wrong_content_type",
        "JSON answers are labelled text/plain",
        "content type",
        _responses(_text_plain),
    ),
    Drift(
        "relative_output_urls",
        "output URLs are paths without scheme and host",
        "absolute output URLs",
        _responses(_relative_urls),
    ),
    Drift(
        "time_required_wrong_shape",
        "a SUCCESS time_required is a string such as '12.3s' instead of {startup_time, runtime}",
        "time_required shape",
        _responses(_time_as_text),
    ),
    Drift(
        "status_code_mismatch",
        "a validation failure (FAILED, Input Validation Error) is answered HTTP 200 instead of 422",
        "status code",
        _responses(_validation_answered_200),
    ),
    Drift(
        "task_never_finishes",
        "/getImage answers PENDING for every id: a queued task never reaches SUCCESS or FAILED",
        "task reaches a terminal state",
        _responses(_never_finishes),
    ),
    Drift(
        "validation_error_data_first_only",
        "a 422 lists only the first broken rule in error_data",
        "all broken rules listed",
        _responses(_first_error_only),
    ),
)

DRIFTS: dict[str, Drift] = {drift.name: drift for drift in CATALOGUE}

# Outside the catalogue, whose tallies the README's drift table reports: a drift seen only when a task is polled,
# for the poll's own tests. The submit's queued answer is faithful, so the task is followed.
FINISHED_TASK_RESPELLED = Drift(
    "finished_task_respelled",
    "a finished task reads status 'DONE' instead of SUCCESS when polled",
    "status value",
    _responses(_respell_finished_task),
)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _media_type(start: Message) -> str:
    for key, value in start.get("headers", []):
        if key.lower() == b"content-type":
            return str(value.decode("latin-1").split(";")[0].strip())
    return ""


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(key, value) for key, value in headers if key.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]


async def _send_json(send: Send, start: Message, exchange: Exchange) -> None:
    body = json.dumps(exchange.body).encode()
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length", b"content-type")]
    headers += [(b"content-length", str(len(body)).encode()), (b"content-type", exchange.content_type.encode())]
    await send({**start, "status": exchange.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
