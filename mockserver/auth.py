"""Bearer-token check. Returns what went wrong, or None; the transport turns it into a 401."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class AuthFailure:
    error: str
    error_data: str
    # Only a missing or malformed header asks the client to authenticate, as FastAPI's HTTPBearer does.
    challenge: bool


def check(headers: Mapping[str, str], tokens: frozenset[str]) -> AuthFailure | None:
    """None if the request may proceed; `tokens` empty means any non-empty token is accepted."""
    header = headers.get("authorization")
    if header is None:
        return AuthFailure("Not authenticated", "Missing header: Authorization: Bearer <token>", challenge=True)
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return AuthFailure("Not authenticated", "Malformed header: expected Authorization: Bearer <token>", True)
    if tokens and token not in tokens:
        return AuthFailure("Invalid API Key", "The bearer token is not one this server accepts.", challenge=False)
    return None


def token_id(headers: Mapping[str, str]) -> str:
    """A short, stable stand-in for the caller's token: tells callers apart without storing the secret."""
    _, _, token = headers.get("authorization", "").strip().partition(" ")
    if not token.strip():
        return "anonymous"
    return "tok_" + hashlib.sha256(token.strip().encode()).hexdigest()[:12]
