"""What several layers read of one request, worked out once and kept in its scope.

The guard, the recorder and the route each read headers and the caller's token id; done again in each
layer, that was a fifth of the fake's own cost per request.
"""

from __future__ import annotations

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
