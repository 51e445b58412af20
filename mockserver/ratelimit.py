"""Per-token request limits over a sliding window of simulated time, answered with 429 and Retry-After."""

from __future__ import annotations

import math
import re
from collections import OrderedDict, deque
from dataclasses import dataclass

_UNITS = {"s": 1.0, "sec": 1.0, "second": 1.0, "min": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}
_SPEC = re.compile(r"\s*(\d+)\s*/\s*([a-z]+)\s*")


class RateLimitError(ValueError):
    pass


@dataclass(frozen=True)
class RateLimit:
    requests: int
    window: float
    spec: str


def parse_rate_limit(spec: str) -> RateLimit:
    """`60/min`, `5/s`, `1000/hour` -> RateLimit; anything else raises RateLimitError naming the spec."""
    match = _SPEC.fullmatch(spec) if isinstance(spec, str) else None
    if match is None or match.group(2) not in _UNITS or int(match.group(1)) < 1:
        units = ", ".join(sorted(set(_UNITS)))
        raise RateLimitError(f"rate_limit={spec!r} must look like N/unit with N >= 1 and unit one of {units}")
    return RateLimit(int(match.group(1)), _UNITS[match.group(2)], f"{int(match.group(1))}/{match.group(2)}")


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
