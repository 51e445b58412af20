"""How a caller authenticated, never with what: a bearer token becomes a name (`t1`, `t2`, ...) at once.

Every recording passes through here, ours as it is written and a HAR or VCR file as it is read, so a token is
dropped the moment it is seen. A name comes from an HMAC with a key that lives only as long as one `TokenNames`,
so the names tell callers apart within one recording and cannot confirm a guessed token offline.

A token that another tool already replaced (schemathesis writes `[Filtered]`; our HAR writer
`[redacted t1]`) is a placeholder, not a credential: it is named all the same, but not counted as one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Literal

Auth = Literal["bearer", "other"] | None
# Distinct tokens one recording names apart (t1...); any past these are all "t+", so memory stays bounded.
MAX_TOKEN_NAMES = 1_000
# What our HAR writer puts where a token was: the name, so a HAR read back names its callers as before.
_REDACTED = re.compile(r"\[redacted(?: (?P<name>t(?:\d+|\+)))?\]")
_PLACEHOLDERS = frozenset({"[filtered]", "[redacted]", "***", "<redacted>", "redacted"})


def redacted(name: str | None) -> str:
    """The text our HAR writer puts in place of a token named `name`."""
    return f"[redacted {name}]" if name else "[redacted]"


@dataclass
class TokenNames:
    """Names the tokens of one recording in order of first use, and remembers whether any was real.

    Usage:
        names = TokenNames()
        names.of("Bearer sk-live-…")     # ("bearer", "t1")
        names.of("Basic dXNlcjpwdw==")   # ("other", None)
        names.held_credentials           # True
    """

    held_credentials: bool = False
    _names: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32), init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def of(self, authorization: str | None) -> tuple[Auth, str | None]:
        """(`bearer`/`other`/None, `t1`...) for an Authorization header's value (None: no header)."""
        if authorization is None:
            return None, None
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        placeholder = _REDACTED.fullmatch(token)
        if not placeholder and token.lower() not in _PLACEHOLDERS and (token or scheme):
            self.held_credentials = True
        if scheme.lower() != "bearer" or not token:
            return "other", None
        if placeholder and placeholder["name"]:
            return "bearer", self._named(placeholder["name"], placeholder["name"])
        digest = hmac.new(self._key, token.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()
        return "bearer", self._named(digest, None)

    def _named(self, key: str, wanted: str | None) -> str:
        with self._lock:
            if key in self._names:
                return self._names[key]
            if len(self._names) >= MAX_TOKEN_NAMES:
                return "t+"  # one more token among too many to tell apart
            if wanted is None:
                used, number = set(self._names.values()), len(self._names) + 1
                while f"t{number}" in used:  # a HAR we wrote may already hold names, when it is read back
                    number += 1
                wanted = f"t{number}"
            self._names[key] = wanted
            return wanted
