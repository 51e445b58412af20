"""Where a contract run or probe sends requests, and with which token.

The token is read from one named environment variable and kept out of `repr`, so it cannot leak
into output or reports through a stray print of the target.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from contracts.spec.credentials import AUTHORIZATION, TOKEN_PLACEHOLDER, bearer

DEFAULT_TOKEN_ENV = "QOLABA_API_KEY"
# How a printed request shows the run's token: left to the shell to fill.
# Sent where a tool tries credentials no account has; not a secret, so printed requests show it as sent.
MADE_UP_TOKEN = "qolaba-mock-made-up-token"
# The credentials a request presents: the run's token, MADE_UP_TOKEN, something that is no bearer token (as a
# recording may hold), or none.
Credentials = Literal["token", "made-up", "other"] | None
# What a tool may cost a target. free: only requests refused before any job; safe: only requests the contract
# rejects (a backend that checks fields in the job still invokes one to refuse them); full: valid submits too, capped.
Mode = Literal["free", "safe", "full"]
_NOT_BEARER = "Basic cWFvbGFiYS1tb2Nr"  # any scheme but Bearer is refused alike


def headers_for(credentials: Credentials, token: str) -> dict[str, str]:
    """The headers that present `credentials`; `token` is the one "token" stands for."""
    if credentials == "token":
        return bearer(token)
    if credentials == "made-up":
        return bearer(MADE_UP_TOKEN)
    if credentials == "other":
        return {AUTHORIZATION: _NOT_BEARER}
    return {}


class TargetError(Exception):
    """A base URL or token problem, worded as one line for the CLI."""


@dataclass(frozen=True)
class Target:
    base_url: str
    token: str = field(repr=False)
    token_env: str = DEFAULT_TOKEN_ENV

    @property
    def is_loopback(self) -> bool:
        return is_loopback_url(self.base_url)

    @property
    def auth_headers(self) -> dict[str, str]:
        return headers_for("token", self.token)

    def redact(self, text: str) -> str:
        """`text` with the token replaced by `$TOKEN`, for anything that is printed or written."""
        return text.replace(self.token, TOKEN_PLACEHOLDER) if self.token else text


def resolve_target(base_url: str, token_env: str, environ: Mapping[str, str] | None = None) -> Target:
    """Check the base URL and read the token; every problem is a TargetError naming what to fix."""
    environ = os.environ if environ is None else environ
    return Target(base_url=_checked_base_url(base_url), token=_token(token_env, environ), token_env=token_env)


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _checked_base_url(base_url: str) -> str:
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise TargetError(f"--base-url {base_url!r} is not a URL: {exc}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise TargetError(f"--base-url {base_url!r} must be an absolute http:// or https:// URL")
    if parts.query or parts.fragment:
        raise TargetError(f"--base-url {base_url!r} must not have a query or fragment")
    return base_url.rstrip("/")


def _token(token_env: str, environ: Mapping[str, str]) -> str:
    if not token_env:
        raise TargetError("--token-env must name an environment variable")
    token = environ.get(token_env, "").strip()
    if not token:
        raise TargetError(f"environment variable {token_env} is not set; put the API token there (never on the CLI)")
    return token
