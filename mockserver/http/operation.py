"""One API operation (submit or status) answering one request, step by step, and telling what it did.

The steps, in order: the request arrives (its namespace's clock is read: latency counts from here, so the
fake's own work is inside the configured delay, not added to it); a replay may answer it; the fidelity
profile admits it (credentials and body, in the profile's order); its namespace is resolved (created if new)
and its `X-Mock-*` steering read; the backend answers; the answer is held for its simulated time; and it
is rendered, or acted out as a connection fault.

What happened on the way (the namespace and arrival used, the fault that fired, what was read of the body,
whether the client left) is noted on the request's `Call`, which the journal recorder made when the request
arrived and alone turns into a journal entry (journal_recorder.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from contracts.spec.schema import SUBMIT, max_request_bytes
from mockserver.behaviour.faults import FaultError, header_fault
from mockserver.behaviour.fidelity.profiles import Profile
from mockserver.behaviour.latency import LatencyError, parse_latency
from mockserver.http import request_facts as _request
from mockserver.http.body_reader import BodyNotRead, BodyTimedOut, ClientGone, read_body
from mockserver.http.connection_faults import fault_response
from mockserver.http.holding import blocked_caller, hold
from mockserver.http.responses import failed_response, reply_response
from mockserver.http.shutdown import Drain, shutting_down
from mockserver.sim import namespaces
from mockserver.sim.backend import Backend, Steering
from mockserver.sim.namespaces import Namespace
from mockserver.sim.replay import Incoming, Venue
from mockserver.wire import envelope
from mockserver.wire.envelope import Reply

FAULT_HEADER, LATENCY_HEADER = "x-mock-fault", "x-mock-latency"
_CLOSE = {"connection": "close"}
_NOT_STEERED = Steering()


class Call:
    """One request as it arrived and was handled: what its journal entry records besides the bytes that went out.

    `space` and `arrived` are the namespace the request named (if it exists yet, else the default one) and the
    time it arrived on that namespace's clock, until the request is admitted and its namespace resolved.
    `body` is what was read of the request body (all of it, or as far as a size limit or a disconnect let it
    go) and `body_size` how many bytes came.
    """

    __slots__ = (
        "_read",
        "arrived",
        "body",
        "body_size",
        "client_left",
        "fault",
        "headers",
        "receive",
        "scope",
        "space",
    )

    def __init__(self, scope: Scope, receive: Receive, backend: Backend) -> None:
        self.scope, self.receive = scope, receive
        self.headers = _request.headers(scope)
        # Looked up, never created: only an admitted API call creates a namespace (Operation._namespace_and_steering).
        space = backend.namespaces.find(self.namespace_name) or backend.default
        self.space, self.arrived = space, space.clock.now()
        self.fault: str | None = None
        self.client_left = False
        self.body, self.body_size, self._read = b"", 0, False

    @property
    def namespace_name(self) -> str:
        return self.headers.get(namespaces.HEADER, namespaces.DEFAULT)

    async def read(self) -> bytes:
        """The request body, read once (a replay, the profile's admission and the journal all see it)."""
        if not self._read:
            try:
                self.body = await read_body(self.scope, self.receive, max_request_bytes())
            except BodyNotRead as exc:
                self.body, self.body_size = exc.received, exc.size
                raise
            self.body_size, self._read = len(self.body), True
        return self.body

    def resolved(self, space: Namespace) -> None:
        """The request belongs to `space` (made just now, perhaps, with a virtual clock of its own)."""
        if space.clock is not self.space.clock:
            self.arrived = space.clock.now()
        self.space = space


class Operation:
    """An API endpoint: `answer(call)` gives the response, and notes on the call what happened.

    The journal recorder calls it straight, for every API call. As an ASGI app (the router's view of it, which
    only ever answers another method on these paths with 405) it answers a call nobody records.
    """

    def __init__(self, operation: str, backend: Backend, drain: Drain) -> None:
        # Bound here rather than read from `app.state` on each request (an attribute lookup in Python each).
        self.operation, self.backend, self.drain = operation, backend, drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.answer(Call(scope, receive, self.backend))
        await response(scope, receive, send)

    async def answer(self, call: Call) -> Response:
        """The answer to `call`, noting on it what happened on the way."""
        profile = self.backend.profile
        try:
            return await self._answer(call, profile)
        except BodyNotRead as exc:
            return self._unread(call, exc, profile)

    async def _answer(self, call: Call, profile: Profile) -> Response:
        if self.backend.replay is not None:
            replayed = await self._replayed(call)
            if replayed is not None:
                return replayed
        # Who checks what first (credentials or the body) is the profile's: see fidelity/answers.py.
        admitted = await profile.answers.admit(self.operation, call.headers, call.read, self.backend.config.tokens)
        if isinstance(admitted, Reply):
            return reply_response(admitted, keys=profile.envelope_keys)
        steering = self._namespace_and_steering(call)
        if isinstance(steering, Response):
            return steering
        reply = self._backend_reply(call, admitted, steering)
        return await self._held(call, call.arrived + reply.delay) or self._rendered(call, reply, profile)

    def _unread(self, call: Call, exc: BodyNotRead, profile: Profile) -> Response:
        """The answer to a request whose body could not be read whole."""
        if isinstance(exc, BodyTimedOut):
            # The client is still there, trickling: told why, and the connection closed behind the answer.
            late = Reply(408, envelope.failed(error="Request Timeout", error_data=str(exc)), headers=_CLOSE)
            return reply_response(late, keys=profile.envelope_keys)
        if isinstance(exc, ClientGone):
            call.client_left = True
            return Response(status_code=400)  # nobody is left to read it
        return failed_response(413, "Payload Too Large", str(exc))

    def _namespace_and_steering(self, call: Call) -> Steering | Response:
        """The request's namespace, resolved (only a caller the server admitted may create one), and what its
        `X-Mock-Fault` and `X-Mock-Latency` headers ask for; a 400 naming a bad one."""
        try:
            space = self.backend.namespaces.get(call.namespace_name)
            steering = _steering_of(call.headers, self.operation, self.backend.config.max_latency)
        except (namespaces.NamespaceError, FaultError, LatencyError) as exc:
            return failed_response(400, "Invalid Mock Header", str(exc))
        call.resolved(space)
        return steering

    def _backend_reply(self, call: Call, admitted: dict[str, Any], steering: Steering) -> Reply:
        token_id, namespace = _request.token_id(call.scope), call.space.name
        if self.operation == SUBMIT:
            base_url = _request.base_url(call.scope)
            reply = self.backend.submit(
                admitted, base_url=base_url, token_id=token_id, namespace=namespace, steering=steering
            )
        else:
            reply = self.backend.status(admitted, token_id=token_id, namespace=namespace, steering=steering)
        call.fault = reply.fault
        return reply

    async def _held(self, call: Call, until: float) -> Response | None:
        """Hold the request until `until` on its namespace's clock: None when the time came (or the client left,
        and nobody reads the answer), the shutdown answer when the server drains first."""
        clock = call.space.clock
        if until <= clock.now() and not self.drain.started:
            return None  # nothing to wait for
        ending = await hold(clock, until - clock.now(), call.receive, self.drain, blocked_caller(call.scope))
        if ending == "disconnected":
            call.client_left = True
        return shutting_down() if ending == "draining" else None

    def _rendered(self, call: Call, reply: Reply, profile: Profile) -> Response:
        if reply.connection is not None:
            body = json.dumps(envelope.shaped(reply.body, profile.envelope_keys)).encode()
            return fault_response(reply.connection, body, call.space.clock, self.drain)
        return reply_response(reply, keys=profile.envelope_keys)

    async def _replayed(self, call: Call) -> Response | None:
        """The recorded answer to this request, held as long as it took; None to let the model answer."""
        backend, scope = self.backend, call.scope
        replay = backend.replay
        assert replay is not None
        incoming = Incoming(scope["method"], scope["path"], call.headers.get("authorization"), await call.read())
        public_url = backend.config.public_url or _request.base_url(scope)
        venue = Venue(call.arrived, call.space.rng, public_url, backend.outputs, backend.profile.outputs)
        reply = replay.answer(incoming, venue)
        if reply is None:
            return reply_response(replay.unmatched(incoming.method, incoming.path)) if replay.strict else None
        call.fault = reply.fault
        delay = reply.delay
        steered = call.headers.get(LATENCY_HEADER)
        if steered is not None:
            # X-Mock-Latency replaces the recorded timing, as it replaces the model's.
            try:
                delay = parse_latency(steered, limit=backend.config.max_latency).longest
            except LatencyError as exc:
                return failed_response(400, "Invalid Mock Header", str(exc))
        return await self._held(call, call.arrived + delay) or reply_response(reply)


def _steering_of(headers: Mapping[str, str], operation: str, max_latency: float) -> Steering:
    fault = headers.get(FAULT_HEADER)
    latency = headers.get(LATENCY_HEADER)
    if fault is None and latency is None:
        return _NOT_STEERED
    if fault is not None:
        header_fault(fault, "submit" if operation == SUBMIT else "status")
    if latency is not None:
        parse_latency(latency, limit=max_latency)
    return Steering(fault=fault, latency=latency)
