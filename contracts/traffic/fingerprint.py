"""Which fidelity profile a target answers like: its probe rows against the fake's, profile by profile.

Each row of a probe is answered by the target; the same request goes to the in-process fake in every
profile. A row agrees when the HTTP code, the `error`, the dialect and where the refusal was made all match.
The profile with the most agreeing rows is the closest; the rows where it still differs are the ones to
look at (or to record: `qolaba-mock record`).

Usage:
    closest = fingerprint(report)
    print(closest.line())   # closest profile: production (58/58 rows agree)
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts.client.target import Target
from contracts.probe.matrix import ProbeReport, ProbeRow, run_probe
from mockserver.behaviour.fidelity.profiles import profile_names
from mockserver.testing.in_profile import BASE_URL, fake_in_profile

# The token the probe presents to the fake, which accepts it alone (a refused token shows in the rows).
_TOKEN = "qolaba-mock-fingerprint"


@dataclass(frozen=True)
class Agreement:
    profile: str
    agreeing: int
    compared: int
    differing: tuple[str, ...]  # "field rule: target's answer, not the profile's"

    def line(self) -> str:
        shown = "; ".join(self.differing[:5]) + ("; …" if len(self.differing) > 5 else "")
        also = f"; differs on: {shown}" if self.differing else ""
        return f"closest profile: {self.profile} ({self.agreeing}/{self.compared} rows agree{also})"


def fingerprint(report: ProbeReport) -> Agreement:
    """The profile whose fake answers `report`'s probes most like the target did (ties: the first registered)."""
    return max(agreements(report), key=lambda agreement: agreement.agreeing)


def agreements(report: ProbeReport) -> list[Agreement]:
    """How far the target agrees with each registered profile, in the registry's order."""
    return [_agreement(report, profile) for profile in profile_names()]


def _agreement(report: ProbeReport, profile: str) -> Agreement:
    with fake_in_profile(profile, frozenset({_TOKEN})) as in_profile:
        # A queued probe's polls move the fake's clock instead of waiting.
        target = Target(BASE_URL, token=_TOKEN)
        fake = run_probe(target, free=report.free, transport=in_profile.transport(), sleep=in_profile.clock.advance)
    differing = [
        f"{theirs.field} {theirs.rule}: {_answer(theirs)}, not {_answer(ours)}"
        for theirs, ours in zip(report.rows, fake.rows, strict=False)
        if _signature(theirs) != _signature(ours)
    ]
    compared = min(len(report.rows), len(fake.rows))
    return Agreement(profile, compared - len(differing), compared, tuple(differing))


def _signature(row: ProbeRow) -> tuple[object, ...]:
    return (row.observed_status, row.observed_error, row.dialect, row.where, row.observed)


def _answer(row: ProbeRow) -> str:
    where = f", {row.where} ({row.dialect})" if row.dialect else ""
    return f"{row.observed_status} {row.observed_error or ''}".strip() + f" {row.observed}{where}"
