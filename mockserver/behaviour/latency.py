"""How long a simulated generation takes: fixed, uniform, lognormal, or modelled on the GPU workload.

A `LatencyModel` is parsed from a short spec (`fixed:250ms`, `workload`) and sampled once per job with a
seeded `random.Random`, so the same seed and the same requests in the same order give the same timings.
"""

from __future__ import annotations

import functools
import math
import random
import re
from dataclasses import dataclass
from typing import Any, Protocol

from mockserver.wire.images import floor_to_multiple_of_8

_SHAPES = "fixed:<d>, uniform:<d>..<d>, lognormal:median=<d>,sigma=<x>[,max=<d>], workload or none"

# Seconds per denoising step per megapixel, in proportion to measured SDXL throughput. One a10g image of
# 1024x1024 at the default step count comes to about 18.9 s; production reported 18.42 s for that request.
_SECONDS_PER_STEP_PER_MEGAPIXEL = {"a10g": 0.60, "a100": 0.26, "h100": 0.15}
_RUNTIME_NOISE = 0.08
# A fresh container loads the SDXL weights before its first job; idle containers are scaled down.
_COLD_START = 25.0
_COLD_START_NOISE = 0.1
_IDLE_BEFORE_SCALE_DOWN = 300.0
# Keeps the exponent of an absurd sigma finite; sane sigmas never get near it.
_MAX_EXPONENT = 40.0
_DECIMALS = 3

_DURATION = re.compile(r"(?P<number>[+-]?(?:\d+(?:\.\d*)?|\.\d+|nan|inf(?:inity)?))\s*(?P<unit>ms|s|m)?", re.IGNORECASE)


class LatencyError(ValueError):
    """A latency spec that cannot be used; the message names the spec and what was expected."""


@dataclass(frozen=True)
class Timing:
    """Simulated seconds a generation takes, as `time_required` reports them.

    Usage:
        Timing(startup_time=25.0, runtime=18.4).total  # 43.4
    """

    startup_time: float = 0.0
    runtime: float = 0.0

    @property
    def total(self) -> float:
        return self.startup_time + self.runtime

    def capped(self, limit: float) -> Timing:
        """The same timing, shortened (runtime first) so that `total` is at most `limit`."""
        if self.total <= limit:
            return self
        startup = min(self.startup_time, limit)
        return Timing(startup_time=startup, runtime=_round(max(0.0, limit - startup)))


class LatencyModel(Protocol):
    @property
    def spec(self) -> str:
        """The spec it was parsed from, normalised (`fixed:0.25s` reads `fixed:250ms`)."""
        ...

    @property
    def longest(self) -> float:
        """The longest duration the spec names (a lognormal's tail or a workload's runtime can go beyond it)."""
        ...

    def sample(self, request: dict[str, Any], rng: random.Random, idle_for: float | None) -> Timing:
        """The timing of one job; `idle_for` is the simulated seconds since the previous job, None for the first."""
        ...


def parse_latency(spec: str, *, limit: float | None = None) -> LatencyModel:
    """The latency model a spec describes; LatencyError names the spec and the shapes it may take.

    `limit` (simulated seconds, the server's `max_latency`) refuses a spec naming a longer duration.

    Usage:
        model = parse_latency("lognormal:median=800ms,sigma=0.4,max=5s")
        timing = model.sample(request, random.Random(0), idle_for=None)
    """
    if not isinstance(spec, str):
        raise LatencyError(f"latency={spec!r} is not a latency spec; expected {_SHAPES}")
    model = _parse(spec)
    if limit is not None and model.longest > limit:
        raise LatencyError(
            f"latency={spec!r} names {_format(model.longest)}, longer than the maximum of {_format(limit)} "
            "(max_latency)"
        )
    return model


def _parse(spec: str) -> LatencyModel:
    where = f"latency={spec!r}"
    kind, colon, body = (part.strip() for part in spec.partition(":"))
    if kind == "none" and not colon:
        return _Fixed("none", 0.0)
    if kind == "workload":
        return _workload(body, where) if colon else _Workload("workload")
    if kind == "fixed" and colon:
        seconds = _duration(body, where)
        return _Fixed(f"fixed:{_format(seconds)}", seconds)
    if kind == "uniform" and colon:
        return _uniform(body, where)
    if kind == "lognormal" and colon:
        return _lognormal(body, where)
    raise LatencyError(f"{where} is not a latency spec; expected {_SHAPES}")


def parse_duration(text: str) -> float:
    """Seconds in a duration written with a unit (ms, s or m); a bare `0` needs none.

    Usage:
        parse_duration("250ms")  # 0.25
        parse_duration("1m")     # 60.0
    """
    return _duration(text, f"duration={text!r}")


@dataclass(frozen=True)
class _Fixed:
    spec: str
    seconds: float

    @property
    def longest(self) -> float:
        return self.seconds

    def sample(self, request: dict[str, Any], rng: random.Random, idle_for: float | None) -> Timing:
        return _fixed_timing(self.seconds)


@functools.lru_cache(maxsize=64)
def _fixed_timing(seconds: float) -> Timing:
    # A fixed latency answers the same (immutable) timing every time: built once, not per request.
    return Timing(runtime=_round(seconds))


@dataclass(frozen=True)
class _Uniform:
    spec: str
    low: float
    high: float

    @property
    def longest(self) -> float:
        return self.high

    def sample(self, request: dict[str, Any], rng: random.Random, idle_for: float | None) -> Timing:
        # Rounding must not carry a draw past either end.
        return Timing(runtime=min(self.high, max(self.low, _round(rng.uniform(self.low, self.high)))))


@dataclass(frozen=True)
class _Lognormal:
    spec: str
    median: float
    sigma: float
    cap: float | None

    @property
    def longest(self) -> float:
        return self.median if self.cap is None else self.cap

    def sample(self, request: dict[str, Any], rng: random.Random, idle_for: float | None) -> Timing:
        runtime = self.median * math.exp(min(_MAX_EXPONENT, self.sigma * rng.gauss(0.0, 1.0)))
        return Timing(runtime=_round(runtime if self.cap is None else min(self.cap, runtime)))


@dataclass(frozen=True)
class _Workload:
    spec: str
    cold_start: float = _COLD_START
    idle: float = _IDLE_BEFORE_SCALE_DOWN

    @property
    def longest(self) -> float:
        return self.cold_start

    def sample(self, request: dict[str, Any], rng: random.Random, idle_for: float | None) -> Timing:
        megapixels = floor_to_multiple_of_8(request["width"]) * floor_to_multiple_of_8(request["height"]) / 1e6
        per_image = (
            request["num_inference_steps"] * megapixels * _SECONDS_PER_STEP_PER_MEGAPIXEL[request["inference_type"]]
        )
        runtime = request["batch"] * per_image * math.exp(_RUNTIME_NOISE * rng.gauss(0.0, 1.0))
        startup = 0.0
        if idle_for is None or idle_for > self.idle:
            startup = self.cold_start * math.exp(_COLD_START_NOISE * rng.gauss(0.0, 1.0))
        return Timing(startup_time=_round(startup), runtime=_round(runtime))


def _uniform(body: str, where: str) -> _Uniform:
    low_text, dots, high_text = body.partition("..")
    if not dots:
        raise LatencyError(f"{where} is not a range; expected uniform:<d>..<d>, e.g. uniform:100ms..2s")
    low, high = _duration(low_text, where), _duration(high_text, where)
    if low > high:
        raise LatencyError(f"{where} has its low end above its high end; expected uniform:<low>..<high>, low <= high")
    return _Uniform(f"uniform:{_format(low)}..{_format(high)}", low, high)


def _lognormal(body: str, where: str) -> _Lognormal:
    params = _params(body, ("median", "sigma", "max"), where)
    if "median" not in params or "sigma" not in params:
        raise LatencyError(f"{where} needs median=<d> and sigma=<x>, e.g. lognormal:median=800ms,sigma=0.4")
    median = _duration(params["median"], where)
    try:
        sigma = float(params["sigma"])
    except ValueError:
        sigma = math.nan
    if not sigma >= 0 or math.isinf(sigma):
        raise LatencyError(f"{where} has sigma={params['sigma']!r}; expected a finite number >= 0, e.g. sigma=0.4")
    cap = _duration(params["max"], where) if "max" in params else None
    if cap is not None and cap < median:
        raise LatencyError(f"{where} has max below median; expected max >= median")
    spec = f"lognormal:median={_format(median)},sigma={_number(sigma)}"
    return _Lognormal(spec if cap is None else f"{spec},max={_format(cap)}", median, sigma, cap)


def _workload(body: str, where: str) -> _Workload:
    params = _params(body, ("cold_start", "idle"), where)
    cold_start = _duration(params["cold_start"], where) if "cold_start" in params else _COLD_START
    idle = _duration(params["idle"], where) if "idle" in params else _IDLE_BEFORE_SCALE_DOWN
    if (cold_start, idle) == (_COLD_START, _IDLE_BEFORE_SCALE_DOWN):
        return _Workload("workload")
    return _Workload(f"workload:cold_start={_format(cold_start)},idle={_format(idle)}", cold_start, idle)


def _params(body: str, allowed: tuple[str, ...], where: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in body.split(","):
        key, equals, value = (part.strip() for part in item.partition("="))
        if not key or not equals:
            raise LatencyError(f"{where} has {item.strip()!r}; expected key=value pairs with keys {', '.join(allowed)}")
        if key not in allowed:
            raise LatencyError(f"{where} has unknown key {key!r}; expected {', '.join(allowed)}")
        if key in params:
            raise LatencyError(f"{where} sets {key!r} twice")
        params[key] = value
    return params


def _duration(text: str, where: str) -> float:
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise LatencyError(
            f"{where}: {text.strip()!r} is not a duration; expected a number with ms, s or m, e.g. 250ms"
        )
    seconds = float(match["number"])
    unit = (match["unit"] or "").lower()
    if not math.isfinite(seconds):
        raise LatencyError(f"{where} must be a finite duration, e.g. 250ms, 2s or 1m")
    if seconds < 0:
        raise LatencyError(f"{where} must not be negative: durations are >= 0")
    if seconds == 0:
        return 0.0
    if not unit:
        raise LatencyError(f"{where}: {text.strip()!r} needs a unit, ms, s or m, e.g. 250ms")
    return seconds / 1000 if unit == "ms" else seconds * 60 if unit == "m" else seconds


def _format(seconds: float) -> str:
    if seconds == 0:
        return "0"
    if seconds >= 60 and (seconds / 60).is_integer():
        return f"{_number(seconds / 60)}m"
    if seconds < 1:
        return f"{_number(seconds * 1000)}ms"
    return f"{_number(seconds)}s"


def _number(value: float) -> str:
    return f"{value:.9f}".rstrip("0").rstrip(".")


def _round(seconds: float) -> float:
    return round(seconds, _DECIMALS)
