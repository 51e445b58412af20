"""How fast the strategies generate: seconds per thousand examples, through @given as a test would.

Usage:
    .venv/bin/python bench/bench_strategies.py [--examples 10000]

Each strategy runs under a `@given` with a test body that does nothing, no database, no deadline
and the generate phase only, so the figure is Hypothesis's engine plus the strategy: what a user's
property-based test pays before its own code runs.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

import hypothesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import strategies

CASES: dict[str, Callable[[], SearchStrategy[Any]]] = {
    "face_requests()": strategies.face_requests,
    "boundary_face_requests()": strategies.boundary_face_requests,
    "invalid_face_requests()": strategies.invalid_face_requests,
    "status_requests()": strategies.status_requests,
    # The engine's floor for a body of the same size: thirteen plain integers, nothing else.
    "reference: 13 integers": lambda: st.tuples(*[st.integers(0, 10**6)] * 13),
}


def seconds_per_thousand(strategy: SearchStrategy[Any], examples: int) -> tuple[float, int]:
    drawn = 0

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def consume(value: Any) -> None:
        nonlocal drawn
        drawn += 1

    started = time.perf_counter()
    consume()
    elapsed = time.perf_counter() - started
    return elapsed / drawn * 1000, drawn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--examples", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()}, hypothesis {hypothesis.__version__}, {platform.machine()}")
    for name, build in CASES.items():
        per_thousand, drawn = seconds_per_thousand(build(), args.examples)
        print(f"{name:<28} {drawn:>6} examples  {per_thousand:.3f} s per 1000")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
