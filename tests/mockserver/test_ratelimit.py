"""The rate limiter holds only tokens seen within one window."""

from __future__ import annotations

from mockserver.ratelimit import RateLimiter, parse_rate_limit


def test_a_tokens_bucket_is_forgotten_once_its_window_passes_idle() -> None:
    limiter = RateLimiter(parse_rate_limit("2/min"))
    for index in range(1000):
        limiter.admit(f"tok_{index}", now=0.0)
    assert len(limiter) == 1000

    limiter.admit("tok_late", now=61.0)

    assert len(limiter) == 1


def test_a_busy_token_is_still_limited_while_idle_ones_are_forgotten() -> None:
    limiter = RateLimiter(parse_rate_limit("2/min"))
    assert limiter.admit("busy", 0.0) is None
    assert limiter.admit("idle", 1.0) is None
    assert limiter.admit("busy", 30.0) is None

    assert limiter.admit("busy", 59.0) == 1.0  # its first request leaves the window at 60 s
    assert limiter.admit("other", 61.5) is None
    assert len(limiter) == 2  # idle was forgotten; busy still has a request inside its window
