"""The rate limit: one grammar wherever it is set, and a limiter holding only tokens seen within one window."""

from __future__ import annotations

import httpx
import pytest

from mockserver.behaviour.ratelimit import RateLimiter, RateLimitError, parse_rate_limit


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


@pytest.mark.parametrize(
    ("spec", "window"),
    [
        ("5/s", 1.0),
        ("5/sec", 1.0),
        ("5/second", 1.0),
        ("100/m", 60.0),
        ("60/min", 60.0),
        ("60/minute", 60.0),
        ("1000/h", 3600.0),
        ("1000/hour", 3600.0),
        ("10000/d", 86400.0),
        ("10000/day", 86400.0),
    ],
)
def test_every_spelling_of_each_unit_is_accepted(spec: str, window: float) -> None:
    limit = parse_rate_limit(spec)
    assert (limit.window, limit.spec, limit.short) == (window, spec, f"{spec.split('/')[0]}/{spec.split('/')[1][0]}")


@pytest.mark.parametrize("spec", ["60/minutes", "60/M", "1/week", "0/s", "60", "/s", "\u0661\u0660/s", "60 per minute"])
def test_any_other_rate_is_refused_in_one_line_showing_the_accepted_forms(spec: str) -> None:
    with pytest.raises(RateLimitError) as raised:
        parse_rate_limit(spec)
    assert str(raised.value) == (
        f"{spec!r} is not a rate; expected N/s|sec|second, N/m|min|minute, N/h|hour or N/d|day, with N >= 1"
    )


@pytest.mark.anyio
@pytest.mark.qolaba(rate_limit="2/m")
async def test_the_qolaba_marker_takes_the_one_letter_spelling(qolaba_client: httpx.AsyncClient) -> None:
    codes = [(await qolaba_client.post("/getImage", json={"id": "x"})).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
