"""Per-token request limits over a sliding window of simulated time, answered with 429 and Retry-After."""

from __future__ import annotations

import math
import re
from collections import OrderedDict, deque
from dataclasses import dataclass

# Every spelling of a unit, by its one-letter name (the one schemathesis and `contract --rate-limit` print).
_SPELLINGS = {"s": ("s", "sec", "second"), "m": ("m", "min", "minute"), "h": ("h", "hour"), "d": ("d", "day")}
_WINDOWS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_UNITS = {spelling: letter for letter, spellings in _SPELLINGS.items() for spelling in spellings}
_SPEC = re.compile(r"\s*([0-9]+)\s*/\s*([a-z]+)\s*")
RATE_FORMS = "N/s|sec|second, N/m|min|minute, N/h|hour or N/d|day, with N >= 1"


class RateLimitError(ValueError):
    pass


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` per `window` seconds; `spec` is how it was written, `short` its one-letter spelling."""

    requests: int
    window: float
    spec: str
    short: str


def parse_rate_limit(spec: str) -> RateLimit:
    """The one rate grammar of qolaba-mock (serve, its settings, the marker, `contract --rate-limit`).

    RateLimitError's message starts with the spec's repr, so a caller can put its own name before it.

    Usage:
        parse_rate_limit("60/min").window   # 60.0
        parse_rate_limit("100/m").short     # "100/m"
    """
    match = _SPEC.fullmatch(spec) if isinstance(spec, str) else None
    if match is None or match.group(2) not in _UNITS or int(match.group(1)) < 1:
        raise RateLimitError(f"{spec!r} is not a rate; expected {RATE_FORMS}")
    requests, unit = int(match.group(1)), match.group(2)
    letter = _UNITS[unit]
    return RateLimit(requests, _WINDOWS[letter], f"{requests}/{unit}", f"{requests}/{letter}")


class RateLimiter:
    """Counts each token's requests; `admit` answers None, or the seconds until a request would be admitted.

    A token's bucket is forgotten once its window has passed without a request, so the limiter holds only
    the tokens seen within one window (each with at most `requests` timestamps).
    """

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        # Least recently admitted first, so idle buckets are dropped from the front.
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def admit(self, token_id: str, now: float) -> float | None:
        self._drop_idle(now)
        seen = self._seen.get(token_id)
        if seen is None:
            seen = self._seen[token_id] = deque()
        while seen and seen[0] <= now - self.limit.window:
            seen.popleft()
        if len(seen) >= self.limit.requests:
            return seen[0] + self.limit.window - now
        seen.append(now)
        self._seen.move_to_end(token_id)
        return None

    def __len__(self) -> int:
        return len(self._seen)

    def clear(self) -> None:
        self._seen.clear()

    def _drop_idle(self, now: float) -> None:
        while self._seen:
            token_id, seen = next(iter(self._seen.items()))
            if seen and seen[-1] > now - self.limit.window:
                return
            del self._seen[token_id]


def retry_after_header(seconds: float) -> str:
    """Retry-After takes whole seconds; round up so a client that obeys it is admitted."""
    return str(max(1, math.ceil(seconds)))
