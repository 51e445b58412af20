"""How a request carries its API token: `Authorization: Bearer <token>`, the contract's `bearerAuth` scheme.

Every client in the repo (the contract tools, the diff, the pytest fixtures) builds the header here.

Usage:
    httpx.Client(base_url=url, headers=bearer(token))
"""

from __future__ import annotations

AUTHORIZATION = "Authorization"
# What a printed request holds in place of a token: the shell fills it from the environment.
TOKEN_PLACEHOLDER = "$TOKEN"


def bearer(token: str) -> dict[str, str]:
    """The headers that present `token` as the contract asks."""
    return {AUTHORIZATION: f"Bearer {token}"}


class Secret(str):
    """A token that reads `'[redacted]'` in its repr, so a traceback's locals (`pytest -l`) or a stray `print` of a
    container holding it never show it; `str()`, formatting and comparison give the token itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'[redacted]'"


def curl_bearer_argument() -> str:
    """The curl `-H` argument that sends the token as `$TOKEN`, in double quotes so the shell expands it: how
    every pasteable line (the contract tools', the dashboard's) shows a request's token."""
    ((name, value),) = bearer(TOKEN_PLACEHOLDER).items()
    return f'"{name}: {value}"'
