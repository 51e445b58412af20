"""Fidelity profiles: whether the fake answers as the docs say (`contract`) or as the backend does (`production`).

A profile is data plus a few named decisions. The routes and the backend ask it ("how is a missing token
answered?", "is this rule refused now or in the job?"); nothing else tests a profile's name. A new profile is
one more `Profile(...)` below. `docs/fidelity.md` lists each behaviour, each profile's answer and its evidence.

Usage:
    profile = fidelity.profile("production")
    profile.answers.auth_failure(failure)   # 403 {"detail": "Not authenticated"}
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

__all__ = ["ALIASES", "PROFILES", "Job", "Lookup", "Profile", "Refused", "profile"]


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

CONTRACT = Profile(
    name="contract",
    summary="as the documented contract says: every error an envelope, rules refused at once with 422",
    answers=EnvelopeAnswers(),
    rules=ContractRules(),
    envelope_keys=KEYS,
    failed_job_code=200,
    result_ttl=3600.0,
    outputs=_CONTRACT_OUTPUTS,
)
PRODUCTION = Profile(
    name="production",
    summary="as the backend answers (2025-09): 403/500 for auth, FastAPI 422s, rules failing in the job",
    answers=FastApiAnswers(),
    rules=BackendRules(),
    envelope_keys=_PRODUCTION_KEYS,
    failed_job_code=200,
    result_ttl=14_400.0,
    outputs=_PRODUCTION_OUTPUTS,
)
# Production before 2025-04-19 (commit bc0ab4f): failed jobs re-raised as 500, results kept an hour.
PRODUCTION_2024 = dataclasses.replace(
    PRODUCTION,
    name="production-2024",
    summary="as production, before 2025-04-19: failed jobs answer 500, results kept 3,600 s",
    failed_job_code=500,
    result_ttl=3600.0,
)

PROFILES: Mapping[str, Profile] = MappingProxyType({p.name: p for p in (CONTRACT, PRODUCTION, PRODUCTION_2024)})
# Names used before the profiles existed.
ALIASES: Mapping[str, str] = MappingProxyType({"current": "contract", "legacy": "production-2024"})


def profile(name: str) -> Profile:
    """The profile called `name` (or an old alias of it); KeyError lists the names if there is none."""
    found = PROFILES.get(ALIASES.get(name, name))
    if found is None:
        raise KeyError(f"fidelity={name!r} must be one of {', '.join(PROFILES)}")
    return found
