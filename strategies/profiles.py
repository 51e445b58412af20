"""Hypothesis settings profiles for suites built on these strategies: `dev`, `ci` and `thorough`.

Nothing is registered on import, so importing `strategies` never replaces profiles of yours.

Usage (in conftest.py, at module level):
    from strategies import load_profile
    load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

DEV = "dev"
CI = "ci"
THOROUGH = "thorough"
PROFILES = (DEV, CI, THOROUGH)

# Hypothesis loads its own `ci` profile when the CI variable is set: derandomized, no database, no
# deadline, print_blob. Ours inherits all of that and only trims the example count.
_BUILTIN_CI = settings.get_profile(CI)


def register_profiles() -> None:
    """Register `dev` (quick local loops), `ci` (Hypothesis's CI profile, fewer examples) and `thorough`,
    none of them with a deadline.

    Call it at module level (conftest.py), not inside a test: Hypothesis deprecates registering a
    profile while an `@settings` is active. Registering `ci` while it is the loaded profile (CI=true)
    takes effect at once. Calling it twice is harmless.

    Usage:
        register_profiles()   # then: pytest --hypothesis-profile=thorough
    """
    # No deadline in any profile: a busy machine makes an example slow, not wrong (time it in a benchmark).
    settings.register_profile(DEV, max_examples=20, deadline=None)
    settings.register_profile(CI, _BUILTIN_CI, max_examples=40)
    settings.register_profile(THOROUGH, max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def load_profile(name: str) -> None:
    """Register the profiles, then make `name` the active Hypothesis profile.

    Usage:
        load_profile("thorough")
    """
    if name not in PROFILES:
        raise InvalidArgument(f"load_profile(name={name!r}) must be one of {', '.join(PROFILES)}")
    register_profiles()
    settings.load_profile(name)
