"""The recording proxy's side of the upstream: one pooled client with keep-alive, answers read within a bound.

A client per exchange cost a TCP (and TLS) handshake each, about 17 exchanges a second. The client is made on
first use, in the serving loop, and closed by the server when it stops. Its connections are kept in several
small pools rather than one large one: httpcore looks at every connection of a pool each time a request
starts or ends (and polls each idle one's socket), so at 64 exchanges in flight one pool of 100 spent six
times the CPU per request of sixteen pools of four (measured with the load of bench/bench_proxy.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
from starlette.types import Scope

# Request headers the proxy forwards; hop-by-hop ones and Host are the proxy's own (Host names the upstream).
# Origin goes on, so the upstream's own cross-origin guard sees the page that sent the request.
FORWARDED = frozenset(
    name.encode()
    for name in (
        "authorization",
        "content-type",
        "accept",
        "origin",
        "x-mock-fault",
        "x-mock-latency",
        "x-mock-namespace",
    )
)
# Connections to the upstream at once, in pools of POOL_SIZE; an exchange past them waits for one (within the
# request timeout).
MAX_CONNECTIONS = 100
POOL_SIZE = 4
# An idle connection is let go well before a server would close it (uvicorn after 5 s, the same as httpx's own
# default): sent on just as the server closes it, a request fails with a ReadError nobody can safely retry.
KEEPALIVE_SECONDS = 2.0
# An upstream answer is held whole while it is recorded and forwarded: a larger one is a 502.
MAX_ANSWER_BYTES = 64 << 20


class UpstreamError(Exception):
    """The upstream could not be asked or did not answer; the message says what happened."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    headers: httpx.Headers
    content: bytes

    def kept_headers(self, names: tuple[str, ...]) -> dict[str, str]:
        return {name: value for name, value in self.headers.items() if name in names}


class Upstream:
    """Sends a request's method, path, query, forwarded headers and body to the upstream base URL.

    Usage:
        upstream = Upstream("http://127.0.0.1:8000", timeout=30)
        answer = await upstream.send(scope, body)
        await upstream.aclose()
    """

    def __init__(self, base_url: str, *, transport: httpx.AsyncBaseTransport | None, timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self._transport, self._timeout = transport, timeout
        self._client: httpx.AsyncClient | None = None

    def _pool(self) -> httpx.AsyncClient:
        if self._client is None:
            transport = self._transport or _Pools(MAX_CONNECTIONS // POOL_SIZE, POOL_SIZE)
            self._client = httpx.AsyncClient(transport=transport, timeout=self._timeout)
        return self._client

    async def send(self, scope: Scope, body: bytes) -> Answer:
        """The upstream's answer; UpstreamError when there is none. Cancel it to drop the upstream request."""
        try:
            request = self._pool().build_request(
                scope["method"], self._url(scope), content=body, headers=_forwarded_headers(scope)
            )
        except (httpx.InvalidURL, ValueError) as exc:
            raise UpstreamError(f"cannot forward this request: {exc}") from None
        try:
            response = await self._pool().send(request, stream=True)
            try:
                content = await _read_within(response, MAX_ANSWER_BYTES)
            finally:
                await response.aclose()
        except httpx.HTTPError as exc:
            raise UpstreamError(f"{type(exc).__name__}: {exc}") from None
        return Answer(response.status_code, response.headers, content)

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _url(self, scope: Scope) -> str:
        # The path as it arrived (raw_path keeps its escapes), so the upstream sees what the client sent.
        raw_path: bytes | None = scope.get("raw_path")
        path = raw_path.decode("latin-1") if raw_path else scope["path"]
        query: bytes = scope.get("query_string", b"")
        return self.base_url + path + (f"?{query.decode('latin-1')}" if query else "")


class _Pools(httpx.AsyncBaseTransport):
    """Several small connection pools, each request sent through the one with the fewest in flight."""

    def __init__(self, count: int, size: int) -> None:
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=KEEPALIVE_SECONDS)
        tls = httpx.create_ssl_context()  # one for all: each costs a read of the CA bundle
        self._pools = [httpx.AsyncHTTPTransport(limits=limits, verify=tls) for _ in range(count)]
        self._in_flight = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        chosen = min(range(len(self._pools)), key=self._in_flight.__getitem__)
        self._in_flight[chosen] += 1
        try:
            response = await self._pools[chosen].handle_async_request(request)
        except BaseException:
            self._in_flight[chosen] -= 1
            raise
        # In flight until its body is read and closed: only then is its connection free again.
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Released(response.stream, lambda: self._release(chosen)),
            extensions=response.extensions,
        )

    def _release(self, chosen: int) -> None:
        self._in_flight[chosen] -= 1

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


class _Released(httpx.AsyncByteStream):
    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream, self._release = stream, release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            release, self._release = self._release, _nothing
            release()


def _nothing() -> None:
    pass


def _forwarded_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    # As bytes, as they arrived: a header value outside ASCII would not survive a round trip through str.
    return [(name, value) for name, value in scope["headers"] if name in FORWARDED]


async def _read_within(response: httpx.Response, limit: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise UpstreamError(f"the upstream's answer is larger than {limit} bytes")
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():  # decoded: the proxy sends it on without Content-Encoding
        size += len(chunk)
        if size > limit:
            raise UpstreamError(f"the upstream's answer is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
