"""A respx router that sends the calls under one base URL on over the network: to a live fake, or to the real API.

`qolaba_respx` under `--qolaba-target=live` or `api`: the user's code calls the production base URL as it always
does, and the call goes to the live fake (its URL put in place of the base URL) or, unchanged, to the real API,
through transports the caller chooses (recording ones, for the real API).

respx patches httpcore itself, so a request sent on from inside the router comes back to the router: it is marked
with a request extension, and the first route lets a marked request through to the network.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, Literal

import httpx
import respx

from mockserver.testing.handle import RESOLVING_SYNC, Router
from mockserver.testing.url_prefixes import prefix_pattern, url_prefixes

_FORWARDED = "qolaba_mock_forwarded"


def forwarding_router(
    base_url: str | Sequence[str],
    to_url: str,
    *,
    transport: httpx.BaseTransport,
    async_transport: httpx.AsyncBaseTransport,
    pass_through: Sequence[str] = (),
    others: Literal["refuse", "pass"] = "refuse",
) -> respx.MockRouter:
    """A respx router, not yet started, sending every call under `base_url` (one or several) to the same path
    under `to_url`.

    Sync clients' calls go through `transport`, async ones through `async_transport`. A call under a
    `pass_through` prefix goes to the network as it is; any other call raises respx's `AllMockedAssertionError`,
    or with `others="pass"` goes to the network too.
    """
    passed = url_prefixes(pass_through)
    prefixes = url_prefixes([base_url] if isinstance(base_url, str) else list(base_url), name="base_url")
    target = to_url.rstrip("/")

    def forward(request: httpx.Request, prefix: str) -> Any:
        url = str(request.url)
        headers = [(name, value) for name, value in request.headers.raw if name.lower() != b"host"]
        sent = httpx.Request(
            request.method,
            target + url[len(prefix) :],
            headers=headers,
            content=request.content,
            extensions={**request.extensions, _FORWARDED: True},
        )
        if RESOLVING_SYNC.get():
            return transport.handle_request(sent)
        return async_transport.handle_async_request(sent)

    router = Router(assert_all_called=False, assert_all_mocked=True)
    # First: a request this router sent on itself goes to the network.
    router.route(name="forwarded").mock(side_effect=_sent_on)
    for index, prefix in enumerate(dict.fromkeys(p.rstrip("/") for p in prefixes)):
        route = router.route(url__regex=prefix_pattern(prefix), name="qolaba" if index == 0 else f"qolaba_{index}")
        route.mock(side_effect=functools.partial(forward, prefix=prefix))
    for index, passed_prefix in enumerate(passed):
        router.route(url__regex=prefix_pattern(passed_prefix), name=f"pass_through_{index}").pass_through()
    if others == "pass":
        # Last, matching anything: respx's own fallback for an unmatched call would answer an empty 200. A pattern
        # of its own, since respx replaces a route with the same pattern (the first route has none).
        router.route(url__regex=r"^", name="elsewhere").pass_through()
    return router


def network_transports() -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]:
    """Transports to the network (sync, async) whose requests any forwarding router lets through, keeping no idle
    connection: a fixture's client is never closed by an `await`, so no pooled socket is left to the collector."""
    limits = httpx.Limits(max_keepalive_connections=0)
    return _Marked(httpx.HTTPTransport(limits=limits)), _AsyncMarked(httpx.AsyncHTTPTransport(limits=limits))


class _Marked(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions[_FORWARDED] = True
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class _AsyncMarked(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.extensions[_FORWARDED] = True
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _sent_on(request: httpx.Request) -> httpx.Request | None:
    # A request returned is passed through (respx's rule); None lets the next route try.
    return request if request.extensions.get(_FORWARDED) else None
