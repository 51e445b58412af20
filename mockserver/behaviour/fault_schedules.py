"""When a fault fires: the WHEN part of a fault spec (`always`, `p=0.1`, `every:3`, `nth:2,5`, `first:4`).

Parsed once, when the fault is configured; a plan asks `fires` request by request (faults.py).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

_WHEN_SHAPES = "a probability between 0 and 1, every:N, nth:N[,N...], first:N or always"


class FaultError(ValueError):
    """A fault spec or header that cannot be used; the message names it and what was expected."""


_Kind = Literal["always", "p", "every", "nth", "first"]
# Counted schedules and the smallest number each accepts.
_COUNTED: Mapping[str, tuple[_Kind, int]] = {"every": ("every", 1), "nth": ("nth", 1), "first": ("first", 0)}


@dataclass(frozen=True)
class Schedule:
    """When a fault fires: `always`, `p=0.1`, `every:3`, `nth:2,5` or `first:4`, parsed once."""

    kind: _Kind
    probability: float = 1.0
    numbers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        # A schedule built by hand is held to the grammar's rules, so a plan never meets one it cannot run.
        if self.kind in _COUNTED:
            minimum = _COUNTED[self.kind][1]
            if (
                not self.numbers
                or any(n < minimum for n in self.numbers)
                or (self.kind != "nth" and len(self.numbers) > 1)
            ):
                raise FaultError(f"{self.kind} needs whole numbers >= {minimum}, got {self.numbers!r}")
        elif self.kind == "p" and not 0 <= self.probability <= 1:
            raise FaultError("probability must be between 0 and 1")

    @property
    def text(self) -> str:
        if self.kind == "p":
            return f"p={self.probability!r}".removesuffix(".0")
        return self.kind if self.kind == "always" else f"{self.kind}:{','.join(map(str, self.numbers))}"

    def fires(self, count: int, rng: random.Random) -> bool:
        if self.kind == "p":
            return rng.random() < self.probability
        if self.kind == "every":
            return count % self.numbers[0] == 0
        if self.kind == "nth":
            return count in self.numbers
        if self.kind == "first":
            return count <= self.numbers[0]
        return True


def parse_when(text: str, where: str) -> Schedule:
    """The schedule a WHEN text describes; FaultError starts with `where` (the spec it came from)."""
    kind, colon, rest = (part.strip() for part in text.partition(":"))
    if kind == "always" and not colon:
        return Schedule("always")
    if colon and kind in _COUNTED:
        counted, minimum = _COUNTED[kind]
        parts = [part.strip() for part in rest.split(",")]
        if any(not part.isdecimal() or int(part) < minimum for part in parts) or (kind != "nth" and len(parts) > 1):
            raise FaultError(f"{where} {kind} needs whole numbers >= {minimum}, got {rest!r}")
        return Schedule(counted, numbers=tuple(sorted({int(part) for part in parts})))
    try:
        probability = float(kind.removeprefix("p=")) if not colon else None
    except ValueError:
        probability = None
    if probability is None:
        raise FaultError(f"{where} has WHEN {text.strip()!r}; expected {_WHEN_SHAPES}")
    if not 0 <= probability <= 1:
        raise FaultError(f"{where} probability must be between 0 and 1")
    return Schedule("p", probability=probability)
