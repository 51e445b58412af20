"""Fidelity profiles: whether the fake answers as the docs say (`contract`) or as the backend does (`production`).

A profile is data plus a few named decisions. The routes and the backend ask it ("how is a missing token
answered?", "is this rule refused now or in the job?"); nothing else tests a profile's name. A new profile is
one more `register(Profile(...))` below: every list of profiles (`serve --fidelity`, the pytest plugin's
`fidelity=`, `diff --fidelity`, the fingerprint) reads this registry. `docs/fidelity.md` lists each behaviour,
each profile's answer and its evidence.

Usage:
    profile = fidelity.profile("production")
    profile.answers.auth_failure(failure)   # 403 {"detail": "Not authenticated"}
    profile_names()                         # ("contract", "production", "production-2024")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mockserver.behaviour.fidelity.answers import Answers, EnvelopeAnswers, FastApiAnswers
from mockserver.behaviour.fidelity.backend_rules import BackendRules
from mockserver.behaviour.fidelity.rules import ContractRules, Job, Lookup, Refused, Rules
from mockserver.wire.envelope import KEYS
from mockserver.wire.images import ImageSpec, OutputStyle

__all__ = [
    "ALIASES",
    "Job",
    "Lookup",
    "Profile",
    "Refused",
    "profile",
    "profile_names",
    "profiles",
    "register",
    "unregister",
]


@dataclass(frozen=True)
class Profile:
    name: str
    # One line for --help and the docs.
    summary: str
    # Who words refusals made before the backend runs: auth, unreadable bodies, unknown routes.
    answers: Answers
    # When broken rules are refused, with what coercion, and what `input` echoes.
    rules: Rules
    # The keys of every envelope answered.
    envelope_keys: tuple[str, ...]
    # The HTTP code of a job that ended FAILED: sync answers and polls of a failed task.
    failed_job_code: int
    # How long a finished result can be read, in simulated seconds, unless `result_ttl` is set.
    result_ttl: float
    outputs: OutputStyle


_CONTRACT_OUTPUTS = OutputStyle(
    full=ImageSpec("JPEG", "image/jpeg"),
    low_res=ImageSpec("WEBP", "image/webp", long_side=256),  # not a contract bound: preview size
    low_res_folder="low_res/",
)
# Globals.py: both lists are <stamp>_<uuid>.webp on the CDN; the preview is WebP at full size within 100 KB,
# and both are uploaded as image/jpeg (Constants.py).
_PRODUCTION_OUTPUTS = OutputStyle(
    full=ImageSpec("JPEG", "image/jpeg"),
    low_res=ImageSpec("WEBP", "image/jpeg", max_bytes=100_000),
    low_res_folder="",
)
_PRODUCTION_KEYS = tuple(key for key in KEYS if key != "app_id")

# Names used before the profiles existed.
ALIASES: Mapping[str, str] = MappingProxyType({"current": "contract", "legacy": "production-2024"})
# Every profile by name, in the order they were registered (the order every list of them shows).
_REGISTRY: dict[str, Profile] = {}


def register(new: Profile) -> Profile:
    """Add `new` to the profiles under its name, and return it; a name taken (or an old alias) is a ValueError."""
    if new.name in _REGISTRY or new.name in ALIASES or not new.name:
        raise ValueError(f"a fidelity profile cannot be called {new.name!r}: the name is taken")
    _REGISTRY[new.name] = new
    return new


def unregister(name: str) -> None:
    """Remove the profile called `name` (a test's own, say); KeyError if there is none."""
    del _REGISTRY[name]


def profiles() -> Mapping[str, Profile]:
    """Every profile by name, in registration order (a read-only view that follows the registry)."""
    return MappingProxyType(_REGISTRY)


def profile_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def profile(name: str) -> Profile:
    """The profile called `name` (or an old alias of it); KeyError lists the names if there is none."""
    found = _REGISTRY.get(ALIASES.get(name, name))
    if found is None:
        raise KeyError(f"fidelity={name!r} must be one of {', '.join(_REGISTRY)}")
    return found


CONTRACT = register(
    Profile(
        name="contract",
        summary="as the documented contract says: every error an envelope, rules refused at once with 422",
        answers=EnvelopeAnswers(),
        rules=ContractRules(),
        envelope_keys=KEYS,
        failed_job_code=200,
        result_ttl=3600.0,
        outputs=_CONTRACT_OUTPUTS,
    )
)
PRODUCTION = register(
    Profile(
        name="production",
        summary="as the backend answers (2025-09): 403/500 for auth, FastAPI 422s, rules failing in the job",
        answers=FastApiAnswers(),
        rules=BackendRules(),
        envelope_keys=_PRODUCTION_KEYS,
        failed_job_code=200,
        result_ttl=14_400.0,
        outputs=_PRODUCTION_OUTPUTS,
    )
)
# Production before 2025-04-19 (commit bc0ab4f): failed jobs re-raised as 500, results kept an hour.
PRODUCTION_2024 = register(
    dataclasses.replace(
        PRODUCTION,
        name="production-2024",
        summary="as production, before 2025-04-19: failed jobs answer 500, results kept 3,600 s",
        failed_job_code=500,
        result_ttl=3600.0,
    )
)
