"""What several layers read of one request, worked out once and kept in its scope.

The guard, the recorder and the route each read headers and the caller's token id; done again in each
layer, that was a fifth of the fake's own cost per request.
"""

from __future__ import annotations

from starlette.types import Scope

from mockserver import auth

_HEADERS_KEY = "qolaba_mock.headers"
_TOKEN_ID_KEY = "qolaba_mock.token_id"


def headers(scope: Scope) -> dict[str, str]:
    """The request's headers by (lower-case) name; of a repeated header, the first value, as Starlette's
    `Headers.get` reads it."""
    state = scope.setdefault("state", {})
    found: dict[str, str] | None = state.get(_HEADERS_KEY)
    if found is None:
        # Reversed, so that the first of a repeated header is the one left in the dict.
        found = {name.decode("latin-1"): value.decode("latin-1") for name, value in reversed(scope["headers"])}
        state[_HEADERS_KEY] = found
    return found


def token_id(scope: Scope) -> str:
    """`auth.token_id` of the request's credentials (`anonymous` without any), hashed once per request."""
    state = scope.setdefault("state", {})
    found: str | None = state.get(_TOKEN_ID_KEY)
    if found is None:
        found = state[_TOKEN_ID_KEY] = auth.token_id(headers(scope))
    return found
