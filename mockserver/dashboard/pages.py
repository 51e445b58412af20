"""The dashboard's pages, under `/__admin/ui`: the live journal, one exchange, tasks, controls, exports, login.

Every page reads the namespace the admin API would (`?namespace=`), through the admin API's own helpers, and
every change a page makes is a `fetch` to the admin API itself (static/dashboard.js), so its rules and its
answers are the ones shown. Pages are Jinja2 templates with autoescaping: every byte a client sent is text.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import jinja2
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from mockserver import admin
from mockserver.behaviour.clock import VirtualClock
from mockserver.behaviour.fidelity.profiles import profile_names
from mockserver.dashboard import exports, snippets, stream
from mockserver.dashboard.rows import (
    PAGE_ROWS,
    STATUS_CLASSES,
    VERDICTS,
    Filters,
    Judge,
    Judgments,
    judged,
    page,
    row_of,
)
from mockserver.dashboard.security import SecurityHeaders
from mockserver.dashboard.tasks import task_timelines
from mockserver.http.guards import SESSION_COOKIE, AdminSessions
from mockserver.http.routes import output
from mockserver.sim import namespaces
from mockserver.sim.journal import Entry
from mockserver.sim.namespaces import Namespace
from mockserver.wire import envelope

HERE = Path(__file__).parent
UI = "/__admin/ui"
_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)
templates = Jinja2Templates(env=_environment)


def _space(request: Request) -> Namespace:
    try:
        return admin.namespace_of(request)
    except admin.AdminError as exc:
        raise _PageError(exc.problems[0][1]) from None


class _PageError(Exception):
    pass


def _when(seconds: float) -> str:
    """A moment on the namespace's clock as a UTC time of day (a virtual clock starts at a fixed date)."""
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    except (OverflowError, OSError, ValueError):
        return f"{seconds:.3f} s"


def _common(request: Request, space: Namespace, view: str) -> dict[str, Any]:
    backend = admin.backend_of(request)
    virtual = isinstance(space.clock, VirtualClock)
    return {
        "ui": UI,
        "view": view,
        "namespace": space.name,
        "namespaces": [s.name for s in backend.namespaces],
        "profile": space.config.fidelity,
        "virtual": virtual,
        "when": _when,
        "now": space.clock.now(),
    }


def _page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def _guarded(handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        try:
            response: Response = await handler(request)
            return response
        except _PageError as exc:
            return _page(request, "problem.html", {"ui": UI, "problem": str(exc)}, 422)

    return endpoint


def _judge(request: Request) -> Judge:
    judgments: Judgments = request.app.state.dashboard_judgments
    return judgments.row


def _query(request: Request, **changes: Any) -> str:
    """The page's query string with `changes` (a None value drops the key)."""
    query = dict(request.query_params)
    query.update({key: str(value) for key, value in changes.items() if value is not None})
    for key in [key for key, value in changes.items() if value is None]:
        query.pop(key, None)
    return urlencode(query)


def _before(request: Request) -> int | None:
    text = request.query_params.get("before", "")
    return int(text) if text.isdecimal() and len(text) <= 18 else None


async def journal_page(request: Request) -> Response:
    space = _space(request)
    filters = Filters.of(request.query_params)
    before = _before(request)
    rows, older = page(space.journal, filters, before=before, judge=_judge(request))
    newest = space.journal[-1].seq if len(space.journal) else 0
    context = {
        **_common(request, space, "journal"),
        "rows": rows,
        "filters": filters,
        "status_classes": STATUS_CLASSES,
        "verdicts": VERDICTS,
        "page_rows": PAGE_ROWS,
        "older": None if older is None else _query(request, before=older),
        "live": before is None,
        "newest": newest,
        "query": _query(request, before=None),
    }
    return _page(request, "journal.html", context)


async def exchange_page(request: Request) -> Response:
    space = _space(request)
    seq = request.path_params["seq"]
    entry = next((e for e in reversed(space.journal) if e.seq == seq), None)
    if entry is None:
        raise _PageError(f"No exchange {seq} in namespace {space.name!r}: the journal may have dropped it.")
    base_url = str(request.base_url).rstrip("/")
    row = row_of(entry)
    context = {
        **_common(request, space, "exchange"),
        "row": row,
        "entry": entry,
        "request_text": _pretty(entry.request_body),
        "response_text": _pretty(entry.response_body),
        "image": _image_name(entry),
        "curl": snippets.curl_line(entry, base_url),
        "python": snippets.httpx_call(entry, base_url),
    }
    return _page(request, "exchange.html", context)


def _image_name(entry: Entry) -> str | None:
    """The output image an image answer was, by its name under /outputs/ (None for any other answer)."""
    if entry.method != "GET" or not entry.response.media_type.startswith("image/"):
        return None
    prefix = "/outputs/"
    return entry.path[len(prefix) :] if entry.path.startswith(prefix) else None


def _pretty(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    return json.dumps(body, indent=2, ensure_ascii=False)


async def resend(request: Request) -> Response:
    """Send an exchange's request again, through the whole fake (guards, faults, journal): the new entry's seq."""
    space = _space(request)
    seq = request.path_params["seq"]
    entry = next((e for e in reversed(space.journal) if e.seq == seq), None)
    if entry is None:
        return JSONResponse({"error": f"No exchange {seq} in namespace {space.name!r}."}, status_code=404)
    headers = {namespaces.HEADER: space.name, **dict(entry.steering)}
    if entry.request.media_type:
        headers["content-type"] = entry.request.media_type
    if entry.token_id is not None:
        tokens = sorted(admin.backend_of(request).config.tokens)
        # The fake's own token, never shown: the page only learns the new exchange's number.
        headers["authorization"] = f"Bearer {tokens[0] if tokens else 'dashboard'}"
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url=str(request.base_url)) as client:
        answer = await client.request(entry.method, entry.path, content=entry.request.kept, headers=headers)
    newest = space.journal[-1].seq if len(space.journal) else None
    return JSONResponse({"seq": newest, "status": answer.status_code})


async def tasks_page(request: Request) -> Response:
    space = _space(request)
    context = {
        **_common(request, space, "tasks"),
        "timelines": task_timelines(space, str(request.base_url), _judge(request)),
    }
    return _page(request, "tasks.html", context)


async def controls_page(request: Request) -> Response:
    space = _space(request)
    hits: dict[str, int] = {}
    for entry in space.journal:
        if entry.fault is not None:
            hits[entry.fault] = hits.get(entry.fault, 0) + 1
    faults = [(spec, hits.get(spec.partition("@")[0].partition(":")[0], 0)) for spec in space.fault_specs]
    context = {
        **_common(request, space, "controls"),
        "faults": faults,
        "own_faults": space.fault_override is not None,
        "latency": space.latency_spec,
        "profiles": profile_names(),
    }
    return _page(request, "controls.html", context)


def _exported(request: Request) -> tuple[list[Entry], str]:
    space = _space(request)
    filters = Filters.of(request.query_params)
    entries = [row.entry for row in judged(space.journal, filters, _judge(request))]
    return entries, str(request.base_url).rstrip("/")


async def export_har(request: Request) -> Response:
    entries, upstream = _exported(request)
    cassette = exports.cassette_of(entries, upstream)
    started = entries[0].started_at if entries and not isinstance(_space(request).clock, VirtualClock) else None
    body = json.dumps(exports.har_document(cassette, started), ensure_ascii=False)
    disposition = {"content-disposition": 'attachment; filename="qolaba-mock.har"'}
    return Response(body, media_type="application/json", headers=disposition)


async def export_cassette(request: Request) -> Response:
    entries, upstream = _exported(request)
    lines = "".join(exports.cassette_lines(exports.cassette_of(entries, upstream), upstream))
    disposition = {"content-disposition": 'attachment; filename="qolaba-mock.jsonl"'}
    return Response(lines, media_type="application/x-ndjson", headers=disposition)


async def live(request: Request) -> Response:
    space = _space(request)
    gate: stream.StreamGate = request.app.state.dashboard_streams
    if not gate.enter():
        message = (
            f"{gate.limit} dashboards already follow this server's journal live, the most it serves at once; "
            "close one, or reload without live updates."
        )
        return JSONResponse(envelope.failed(error="Too Many Streams", error_data=message), 429)
    filters = Filters.of(request.query_params)
    text = request.query_params.get("after", "")
    after = int(text) if text.isdecimal() and len(text) <= 18 else 0
    events = _events(request, space, filters, after)
    return stream.EventStream(events, gate.leave, stream.SEND_SECONDS)


async def _events(request: Request, space: Namespace, filters: Filters, after: int) -> AsyncIterator[str]:
    drain = request.app.state.drain
    judge = _judge(request)
    row_template = _environment.get_template("_row.html")
    common = _common(request, space, "journal")
    last, quiet = after, 0.0
    yield stream.event("hello", str(after))
    while True:
        new = _newer(space, last)
        if new:
            last = new[-1].seq
        if not filters.active and len(new) > stream.BATCH_ROWS:
            # Unfiltered, a burst is cut before any entry is judged: judging decodes bodies, on the server's loop.
            yield stream.event("skipped", str(len(new) - stream.BATCH_ROWS))
            new = new[-stream.BATCH_ROWS :]
        rows = list(judged(new, filters, judge))
        if len(rows) > stream.BATCH_ROWS:
            yield stream.event("skipped", str(len(rows) - stream.BATCH_ROWS))
            rows = rows[-stream.BATCH_ROWS :]
        for row in rows:
            yield stream.event("row", row_template.render(row=row, **common), row.entry.seq)
        quiet = 0.0 if rows else quiet + stream.POLL_SECONDS
        if quiet >= stream.HEARTBEAT_SECONDS:
            quiet = 0.0
            yield ": still here\n\n"
        if await stream.until_drained(drain, stream.POLL_SECONDS):
            yield stream.event("closed", "the server is shutting down")
            return


def _newer(space: Namespace, after: int) -> list[Entry]:
    newer: list[Entry] = []
    for entry in reversed(space.journal):
        if entry.seq <= after:
            break
        newer.append(entry)
    newer.reverse()
    return newer


async def login(request: Request) -> Response:
    """Trade a token or `serve`'s one-time code for a session cookie, and leave the address bar without it."""
    sessions: AdminSessions = request.app.state.admin_sessions
    tokens = admin.backend_of(request).config.tokens
    if not tokens:
        return RedirectResponse(UI + "/", status_code=303)
    code, token = request.query_params.get("code", ""), request.query_params.get("token", "")
    session = sessions.redeem(code, tokens) if code else None
    if session is None and token and any(hmac.compare_digest(token.encode(), t.encode()) for t in tokens):
        session = sessions.open(tokens)
    if session is None:
        problem = "This link was used already, or its token is not one of the server's: ask `serve` for a new one."
        return _page(request, "problem.html", {"ui": UI, "problem": problem}, 401)
    response = RedirectResponse(UI + "/", status_code=303)
    response.set_cookie(SESSION_COOKIE, session, path="/__admin", httponly=True, samesite="strict")
    return response


async def _to_index(request: Request) -> Response:
    return RedirectResponse(UI + "/", status_code=308)


def routes() -> list[BaseRoute]:
    """The dashboard's routes, to mount before the admin API's own (which would answer /__admin/ui with 404)."""
    router = Router(
        routes=[
            Route("/", _guarded(journal_page), methods=["GET"]),
            Route("/stream", _guarded(live), methods=["GET"]),
            Route("/exchange/{seq:int}", _guarded(exchange_page), methods=["GET"]),
            Route("/exchange/{seq:int}/resend", _guarded(resend), methods=["POST"]),
            Route("/tasks", _guarded(tasks_page), methods=["GET"]),
            Route("/controls", _guarded(controls_page), methods=["GET"]),
            Route("/export.har", _guarded(export_har), methods=["GET"]),
            Route("/export.jsonl", _guarded(export_cassette), methods=["GET"]),
            Route("/login", login, methods=["GET"]),
            # The fake's own output images, for thumbnails: the same endpoint as /outputs/, but an admin path, so
            # looking at a task does not add to the journal being looked at.
            Route("/image/{name:path}", output, methods=["GET"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
    )
    return [
        Route(UI, _to_index),
        Mount(UI, app=SecurityHeaders(router)),
    ]
