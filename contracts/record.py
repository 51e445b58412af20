"""`qolaba-mock record`: a reverse proxy in front of the API that checks each answer and writes a cassette.

Point an app at the proxy instead of the API. Each exchange is forwarded unchanged, its answer checked
against the contract as it passes (a violation is printed at once, one line each, as Prism's validating
proxy does), and appended to the cassette (`contracts.cassette`). The `Authorization` header is forwarded
but never written. A poll of a queued task is recorded with its offset from the submit that queued it.

Usage:
    app = recording_proxy("https://qolaba-server-b2b.up.railway.app/api/v1/studio", Path("prod.jsonl"))
    # serve `app` with uvicorn on loopback, point the client at it
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from contracts.cassette import KEPT_HEADERS, CassetteWriter, Exchange, Message
from contracts.schema import STATUS, SUBMIT, max_request_bytes, operation_of
from mockserver.bodies import BodyTooLarge, ClientGone, read_body

# Request headers the proxy forwards; hop-by-hop ones and Host are the proxy's own.
FORWARDED = ("authorization", "content-type", "accept", "x-mock-fault", "x-mock-latency", "x-mock-namespace")
# Queued tasks whose polls the proxy can still link to their submit: a week-long recording holds no more.
MAX_TASKS = 10_000
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


class _Recorder:
    def __init__(
        self, upstream: str, writer: CassetteWriter, say: Callable[[str], None], client: Callable[[], httpx.AsyncClient]
    ) -> None:
        self.upstream, self.writer, self.say, self.client = upstream.rstrip("/"), writer, say, client
        self.started: float | None = None
        self.seq = 0
        # task id -> (seq of its submit, when it was submitted); the oldest forgotten past MAX_TASKS
        self.tasks: OrderedDict[str, tuple[int, float]] = OrderedDict()
        self.lock = threading.Lock()

    async def handle(self, request: Request) -> Response:
        try:
            raw = await read_body(request.scope, request.receive, max_request_bytes())
        except BodyTooLarge as exc:
            return JSONResponse({"error": "Payload Too Large", "error_data": str(exc)}, status_code=413)
        except ClientGone:
            return Response(status_code=400)  # nobody is left to read it
        headers = {name: value for name, value in request.headers.items() if name in FORWARDED}
        target = self.upstream + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        sent = time.monotonic()
        try:
            # A client per exchange: a recording session is slow by nature, and nothing is left open at the end.
            async with self.client() as client:
                answer = await client.request(request.method, target, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            said = f"{type(exc).__name__}: {exc}"
            self.say(f"upstream error: {request.method} {request.url.path}: {said}")
            return JSONResponse({"error": "Bad Gateway", "error_data": said}, status_code=502)
        seconds = time.monotonic() - sent
        exchange = self._exchange(request, raw, answer, sent, seconds)
        self.writer.write(exchange)
        for violation in _violations(request.method, request.url.path, raw, answer):
            self.say(f"violation: {request.method} {request.url.path} -> HTTP {answer.status_code}: {violation}")
        kept = {name: value for name, value in answer.headers.items() if name in KEPT_HEADERS}
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    def _exchange(self, request: Request, raw: bytes, answer: httpx.Response, sent: float, seconds: float) -> Exchange:
        auth, token = self.writer.token_name(request.headers.get("authorization"))
        with self.lock:
            self.started = sent if self.started is None else self.started
            self.seq += 1
            seq, at = self.seq, sent - self.started
            sent_type = request.headers.get("content-type")
            steering = {name: value for name, value in request.headers.items() if name.startswith("x-mock-")}
            request_message = Message.of(raw, sent_type or "").sent_with(sent_type, steering)
            response_message = Message.of(answer.content, answer.headers.get("content-type", ""))
            task = self._task_link(request.url.path, request_message, at)
            self._remember_task(request.url.path, response_message, seq, at)
        headers = {name: value for name, value in answer.headers.items() if name in KEPT_HEADERS}
        return Exchange(
            seq, at, request.method, request.url.path, auth, token, request_message,
            answer.status_code, headers, response_message, seconds, task,
        )  # fmt: skip

    def _remember_task(self, path: str, response: Message, seq: int, at: float) -> None:
        body = response.json if response.is_json else None
        if operation_of(path) == SUBMIT and isinstance(body, dict) and body.get("status") == "PENDING":
            task_id = body.get("task_id")
            if isinstance(task_id, str):
                self.tasks[task_id] = (seq, at)
                if len(self.tasks) > MAX_TASKS:
                    self.tasks.popitem(last=False)

    def _task_link(self, path: str, request: Message, at: float) -> dict[str, Any] | None:
        body = request.json if request.is_json else None
        if operation_of(path) != STATUS or not isinstance(body, dict):
            return None
        queued = self.tasks.get(str(body.get("id")))
        return None if queued is None else {"submit": queued[0], "offset": round(at - queued[1], 6)}


def _violations(method: str, path: str, raw: bytes, answer: httpx.Response) -> list[str]:
    """What the contract's answer checks say of this exchange (none for paths outside the contract)."""
    from contracts.validation import answer_violations

    operation_id = operation_of(path)
    if operation_id is None or method != "POST":
        return []
    try:
        body: Any = json.loads(raw) if raw else None
    except ValueError:
        body = raw
    return answer_violations(operation_id, body, answer)


def recording_proxy(
    upstream: str,
    out: Path,
    *,
    say: Callable[[str], None] = print,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: float = 300.0,
) -> Starlette:
    """The proxy as an ASGI app, writing the cassette to `out`; `app.state.close()` closes the file.

    `transport` replaces the network (tests send the proxy's traffic to an in-process fake).
    """
    writer = CassetteWriter(out, upstream).open()
    recorder = _Recorder(upstream, writer, say, lambda: httpx.AsyncClient(transport=transport, timeout=timeout))
    app = Starlette(routes=[Route("/{path:path}", recorder.handle, methods=_METHODS)])
    # Every line is flushed as written; closing only releases the file (call it once the server has stopped).
    app.state.close = writer.close
    return app
