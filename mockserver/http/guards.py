"""What keeps a fake on a developer's machine from being steered by anyone else.

- On a loopback socket, a request must name a loopback host (or `allowed_hosts`): a web page that
  rebinds its DNS name to 127.0.0.1 reaches the socket, but with its own name in `Host`.
- The admin API needs one of the configured tokens, when there are any.
- Admin calls that change state must be JSON (browsers send `text/plain` and form posts without
  asking first) and must not come from another origin.

The fake and the recording proxy (`qolaba-mock record`) guard their sockets with this one implementation:
a proxy that checked less would undo the fake's guards for anyone who can reach the proxy.
"""

from __future__ import annotations

import functools
import ipaddress
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.http import request_facts
from mockserver.wire import auth, envelope

# The methods a web page can send without a preflight (DELETE needs one, which this server never grants).
_SIMPLE_WRITES = frozenset({"POST", "PUT", "PATCH"})
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


class GuardSettings(Protocol):
    """What the guards read: `Config` has these, and so does `Guard` for a server that is not the fake."""

    @property
    def host(self) -> str: ...  # the address the server is bound to
    @property
    def allowed_hosts(self) -> tuple[str, ...]: ...
    @property
    def public_url(self) -> str | None: ...
    @property
    def tokens(self) -> frozenset[str]: ...  # empty: the admin API is open (to loopback callers)


@dataclass(frozen=True)
class Guard:
    """Fixed guard settings, for a server without a `Config` (the recording proxy).

    Usage:
        Middleware(GuardMiddleware, settings=lambda: Guard(host="127.0.0.1", allowed_hosts=("app.test",)))
    """

    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    public_url: str | None = None
    tokens: frozenset[str] = field(default_factory=frozenset)


# The dashboard's session cookie, and the one admin path that needs no credentials: it checks them itself.
SESSION_COOKIE = "qolaba_mock_admin"
LOGIN_PATH = "/__admin/ui/login"


class AdminSessions:
    """Browser sessions of the admin API, for a server with tokens: a browser cannot send a bearer header when
    it navigates, so the dashboard's login page trades a token (or the one-time code `serve` prints) for a
    random session id in an HttpOnly cookie. The cookie never holds the token. At most `limit` sessions (and
    `limit` unused codes) are kept, the oldest forgotten first, so logging in again and again costs bounded
    memory. Each session and code belongs to the set of tokens the server had when it was made: once the
    admin API replaces the tokens, every earlier session and code stops working, as the old tokens do.

    Usage:
        sessions = AdminSessions(); code = sessions.one_time_code(tokens)
        sessions.redeem(code, tokens)  # -> a session id, once; None after, or under other tokens
    """

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._sessions: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._codes: OrderedDict[str, frozenset[str]] = OrderedDict()
        self._lock = threading.Lock()

    def one_time_code(self, tokens: frozenset[str]) -> str:
        """A code the login page accepts once in place of a token (what `serve` prints in its URL), while the
        server's tokens are still `tokens`."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = tokens
            _forget_oldest(self._codes, self.limit)
        return code

    def redeem(self, code: str, tokens: frozenset[str]) -> str | None:
        """A new session for a one-time code not used before and made under these tokens, else None."""
        with self._lock:
            made_under = self._codes.pop(code, None)
        return self.open(tokens) if made_under == tokens else None

    def open(self, tokens: frozenset[str]) -> str:
        """A new session id (for a caller that proved it holds one of `tokens`)."""
        session = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[session] = tokens
            _forget_oldest(self._sessions, self.limit)
        return session

    def admits(self, cookie_header: str | None, tokens: frozenset[str]) -> bool:
        """Whether a `Cookie` header carries a live session opened while the server's tokens were `tokens`."""
        if not cookie_header or SESSION_COOKIE not in cookie_header:
            return False
        for part in cookie_header.split(";"):
            name, _, value = part.strip().partition("=")
            if name == SESSION_COOKIE and self._sessions.get(value) == tokens:
                return True
        return False


def _forget_oldest(kept: OrderedDict[str, frozenset[str]], limit: int) -> None:
    while len(kept) > limit:
        kept.popitem(last=False)


class GuardMiddleware:
    """Answers a refused request itself (see `refusal`); `settings` is asked on each request, since the
    admin API can replace the fake's config while it runs. `sessions` lets a dashboard's cookie stand for a
    token on the admin API."""

    def __init__(
        self, app: ASGIApp, settings: Callable[[], GuardSettings], sessions: AdminSessions | None = None
    ) -> None:
        self.app = app
        self.settings = settings
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = refusal(scope, self.settings(), self.sessions)
        if refused is None:
            await self.app(scope, receive, send)
        else:
            await refused(scope, receive, send)


def refusal(scope: Scope, settings: GuardSettings, sessions: AdminSessions | None = None) -> JSONResponse | None:
    """The answer to a request the guards refuse (400 Invalid Host, 401, 403, 415), or None to let it through."""
    headers = request_facts.headers(scope)
    host_header = headers.get("host", "")
    if _on_loopback(scope, settings.host) and not _host_allowed(
        host_header, settings.allowed_hosts, settings.public_url
    ):
        host = _host_name(host_header)
        return _refuse(
            400,
            "Invalid Host",
            f"Host {host!r} is not a loopback name; a fake bound to loopback answers only those "
            "(add one with --allowed-host, or allowed_hosts in the config).",
        )
    if not scope["path"].startswith("/__admin"):
        return None
    host = _host_name(host_header)
    signed_in = sessions is not None and (
        scope["path"] == LOGIN_PATH or sessions.admits(headers.get("cookie"), settings.tokens)
    )
    failure = auth.check(headers, settings.tokens) if settings.tokens and not signed_in else None
    if failure is not None:
        detail = f"The admin API needs one of the server's tokens. {failure.error_data}"
        return _refuse(401, failure.error, detail, {"WWW-Authenticate": "Bearer"})
    if scope["method"] not in _SIMPLE_WRITES:
        return None
    origin = headers.get("origin")
    origin_host = _origin_host(origin) if origin is not None else host
    if origin_host != host and not _allowed(origin_host, settings.allowed_hosts, None):
        return _refuse(403, "Forbidden", f"Admin calls from another origin ({origin}) are refused.")
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != "application/json":
        shown = media_type or "none"
        return _refuse(
            415, "Unsupported Media Type", f"Admin calls must send Content-Type: application/json (got {shown})."
        )
    return None


def _refuse(status_code: int, error: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(envelope.failed(error=error, error_data=detail), status_code=status_code, headers=headers)


def _host_name(host: str) -> str:
    """`Host` without its port: `127.0.0.1:8000` -> `127.0.0.1`, `[::1]:80` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def _origin_host(origin: str) -> str:
    try:
        return _host_name(urlsplit(origin).netloc)
    except ValueError:  # `http://[` : no host anyone could be on, so another origin
        return "<unparsable>"


# Asked of the same few names on every request: each answer is worked out once (a bounded cache, since the
# Host header is the client's to choose).
@functools.lru_cache(maxsize=1024)
def is_loopback(name: str) -> bool:
    """A loopback IP address, `localhost` or a name under `.localhost`."""
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _on_loopback(scope: Scope, bound_host: str) -> bool:
    # Only a request that arrived on a loopback socket of a loopback-bound server is checked: in-process
    # transports (httpx, respx) carry made-up hosts such as `testserver` and reach no socket at all.
    server = scope.get("server")
    return server is not None and is_loopback(str(server[0])) and is_loopback(bound_host)


# A client sends the same Host header on every request: each verdict is worked out once (bounded, since the
# header is the client's to choose).
@functools.lru_cache(maxsize=1024)
def _host_allowed(host_header: str, allowed_hosts: tuple[str, ...], public_url: str | None) -> bool:
    return _allowed(_host_name(host_header), allowed_hosts, public_url)


def _allowed(host: str, allowed_hosts: Iterable[str], public_url: str | None) -> bool:
    if is_loopback(host) or host in {h.lower() for h in allowed_hosts}:
        return True
    return public_url is not None and host == (urlsplit(public_url).hostname or "")
