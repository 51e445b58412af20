"""Invalid submits drawn from `strategies.invalid_face_requests`, poisoned as the probe's matrix is.

They break the contract's rules in ways the matrix may not (a one-item list, null, `data:` URLs, another wrong
type); `diff --base-url` sends them beside the matrix.
"""

from __future__ import annotations

import json

from contracts.probe.cases import ABSENT, QUEUED, ProbeCase, base_body, free_poison_for, poison_for


def generated_cases(count: int, *, seed: int = 0, free: bool = False) -> tuple[ProbeCase, ...]:
    """Up to `count` distinct cases drawn from `strategies.invalid_face_requests`, poisoned as the matrix is.

    The same `seed` draws the same cases. Each breaks one rule of the contract in a way the matrix may not
    (a one-item list, null, `data:` URLs, another wrong type), and its poison keeps it from ever running a job.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as seeded

    from strategies import InvalidRequest, invalid_face_requests

    if count <= 0:
        return ()
    base = base_body()
    drawn: dict[str, ProbeCase] = {}

    # Hypothesis is the generator here, not a test runner: no database, no shrinking, every health check off.
    @seeded(seed)
    @settings(
        max_examples=count * 10,  # Hypothesis starts with the simplest bodies, and repeats itself
        database=None,
        phases=[Phase.generate],
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(invalid_face_requests(celery=QUEUED["celery"]))
    def draw(invalid: InvalidRequest) -> None:
        value = invalid.body.get(invalid.field, ABSENT)
        poison = free_poison_for(invalid.field) if free else (poison_for(invalid.field), ABSENT)
        case = ProbeCase(invalid.field, f"generated {invalid.rule}", value, "reject", "generated", *poison)
        drawn.setdefault(json.dumps(case.body(base), sort_keys=True, default=repr), case)
        if len(drawn) == count:
            raise _Enough

    try:
        draw()
    except _Enough:
        pass
    return tuple(drawn.values())


class _Enough(Exception):
    """Raised out of the generator once it has drawn as many distinct cases as asked for."""
