"""What several layers read of one request, worked out once and kept in its scope (or cached, for its base URL).

The guard, the recorder and the route each read headers and the caller's token id; done again in each
layer, that was a fifth of the fake's own cost per request.
"""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.types import Scope

from mockserver.wire import auth

_HEADERS_KEY = "qolaba_mock.headers"
_TOKEN_ID_KEY = "qolaba_mock.token_id"


def headers(scope: Scope) -> dict[str, str]:
    """The request's headers by (lower-case) name; of a repeated header, the first value, as Starlette's
    `Headers.get` reads it."""
    try:
        return scope["state"][_HEADERS_KEY]  # type: ignore[no-any-return]
    except KeyError:
        pass
    # Reversed, so that the first of a repeated header is the one left in the dict.
    found = {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(scope["headers"])}
    scope.setdefault("state", {})[_HEADERS_KEY] = found
    return found


def token_id(scope: Scope) -> str:
    """`auth.token_id` of the request's credentials (`anonymous` without any), hashed once per request."""
    try:
        return scope["state"][_TOKEN_ID_KEY]  # type: ignore[no-any-return]
    except KeyError:
        pass
    found = auth.token_id(headers(scope))
    scope.setdefault("state", {})[_TOKEN_ID_KEY] = found
    return found


def base_url(scope: Scope) -> str:
    """`str(request.base_url)` of the request: where the app is served, as its client reached it."""
    root_path = scope.get("app_root_path", scope.get("root_path", ""))
    host = headers(scope).get("host")
    server = scope.get("server")
    # A server may be a list (Starlette's TestClient): a tuple, to be a cache key.
    return _base_url(scope.get("scheme", "http"), None if server is None else tuple(server), root_path, host)


# Asked with the same few values on every request (bounded, since the Host header is the client's to choose).
@functools.lru_cache(maxsize=128)
def _base_url(scheme: str, server: tuple[str, int | None] | None, root_path: str, host: str | None) -> str:
    """`str(request.base_url)` for a request with these values (the only parts of the scope it reads)."""
    headers = [] if host is None else [(b"host", host.encode("latin-1"))]
    scope: dict[str, Any] = {"type": "http", "scheme": scheme, "server": server, "root_path": root_path}
    scope.update(headers=headers, path="/", query_string=b"")
    return str(Request(scope).base_url)
