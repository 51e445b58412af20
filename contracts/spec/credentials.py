"""How a request carries its API token: `Authorization: Bearer <token>`, the contract's `bearerAuth` scheme.

Every client in the repo (the contract tools, the diff, the pytest fixtures) builds the header here.

Usage:
    httpx.Client(base_url=url, headers=bearer(token))
"""

from __future__ import annotations

AUTHORIZATION = "Authorization"


def bearer(token: str) -> dict[str, str]:
    """The headers that present `token` as the contract asks."""
    return {AUTHORIZATION: f"Bearer {token}"}


class Secret(str):
    """A token that reads `'[redacted]'` in its repr, so a traceback's locals (`pytest -l`) or a stray `print` of a
    container holding it never show it; `str()`, formatting and comparison give the token itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'[redacted]'"
