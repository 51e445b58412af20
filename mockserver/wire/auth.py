"""Bearer-token check. Returns what went wrong, or None; the transport turns it into a 401."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

# Keyed per process: a token id tells callers apart within one run, and cannot be used to confirm a
# guessed token offline (an unkeyed hash could).
_TOKEN_ID_KEY = secrets.token_bytes(32)


AuthProblem = Literal["missing", "scheme", "unknown"]


@dataclass(frozen=True)
class AuthFailure:
    """Why a request may not proceed: no credentials (`missing`), not a bearer token (`scheme`), or a token the
    server does not accept (`unknown`). A fidelity profile words the answer; `error`/`error_data` are the
    contract's wording."""

    problem: AuthProblem
    error: str
    error_data: str

    @property
    def challenge(self) -> bool:
        # Only missing or malformed credentials ask the client to authenticate, as FastAPI's HTTPBearer does.
        return self.problem != "unknown"


def check(headers: Mapping[str, str], tokens: frozenset[str]) -> AuthFailure | None:
    """None if the request may proceed; `tokens` empty means any non-empty token is accepted."""
    header = headers.get("authorization")
    if header is None:
        return AuthFailure("missing", "Not authenticated", "Missing header: Authorization: Bearer <token>")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if not scheme or not token:
        return AuthFailure("missing", "Not authenticated", "Malformed header: expected Authorization: Bearer <token>")
    if scheme.lower() != "bearer":
        return AuthFailure("scheme", "Not authenticated", "Malformed header: expected Authorization: Bearer <token>")
    if tokens and not _known(token, tokens):
        return AuthFailure("unknown", "Invalid API Key", "The bearer token is not one this server accepts.")
    return None


def _known(token: str, tokens: frozenset[str]) -> bool:
    # Compared in constant time, each of them: the answer's timing says nothing about the tokens.
    given = token.encode("utf-8", "surrogateescape")
    return sum(hmac.compare_digest(given, known.encode()) for known in tokens) > 0


def token_id(headers: Mapping[str, str]) -> str:
    """A short stand-in for the caller's token, stable within this process: tells callers apart without
    storing the secret."""
    return _token_id_of(headers.get("authorization", ""))


# A client sends the same header on every request; the id is worked out once for each (bounded, since the
# header is the client's to choose). The cache lives in process memory only, as the configured tokens do.
@functools.lru_cache(maxsize=1024)
def _token_id_of(authorization: str) -> str:
    _, _, token = authorization.strip().partition(" ")
    if not token.strip():
        return "anonymous"
    digest = hmac.new(_TOKEN_ID_KEY, token.strip().encode("utf-8", "surrogateescape"), hashlib.sha256)
    return "tok_" + digest.hexdigest()[:16]
