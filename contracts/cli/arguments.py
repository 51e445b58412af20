"""argparse types that refuse a bad number in one line naming what was wanted (argparse exits 2), and the
options every command that calls an API shares."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import TypeVar

from contracts.client.pacing import Pacing

Number = TypeVar("Number", int, float)


def number(
    convert: Callable[[str], Number], *, accepts: Callable[[Number], bool], what: str
) -> Callable[[str], Number]:
    """An argparse type: `convert` the text, then refuse it unless `accepts` it, naming `what` was wanted."""

    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not accepts(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value

    return parse


positive_int = number(int, accepts=lambda value: value >= 1, what="a positive integer")
non_negative_int = number(int, accepts=lambda value: value >= 0, what="an integer >= 0")
positive_seconds = number(float, accepts=lambda value: 0 < value < math.inf, what="a positive number of seconds")
non_negative_seconds = number(float, accepts=lambda value: 0 <= value < math.inf, what="a number of seconds >= 0")
port = number(int, accepts=lambda value: 0 <= value <= 65535, what="a port (0-65535; 0: a free one)")


def timing_arguments(parser: argparse.ArgumentParser) -> None:
    """`--request-timeout`, `--task-timeout` and `--poll-interval`, as every command that calls an API has them."""
    parser.add_argument(
        "--request-timeout",
        type=positive_seconds,
        default=30.0,
        metavar="S",
        help="seconds to wait for each answer (default: 30)",
    )
    parser.add_argument(
        "--task-timeout",
        type=positive_seconds,
        default=300.0,
        metavar="S",
        help="seconds a queued task may take to finish (default: 300)",
    )
    parser.add_argument(
        "--poll-interval",
        type=positive_seconds,
        default=2.0,
        metavar="S",
        help="seconds between polls of a queued task (default: 2)",
    )


def pacing_of(args: argparse.Namespace, *, min_interval: float) -> Pacing:
    """The pacing `timing_arguments` asked for, with requests `min_interval` seconds apart."""
    return Pacing(
        request_timeout=args.request_timeout,
        min_interval=min_interval,
        task_timeout=args.task_timeout,
        poll_interval=args.poll_interval,
    )
