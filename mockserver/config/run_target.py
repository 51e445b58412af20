"""What a pytest run's tests are sent to (`--qolaba-target`), and what a test asks of the fake that the real API
cannot give (its steering), read from its markers and fixtures.

Imports only pytest and the standard library: the plugin loads in every pytest session.
"""

from __future__ import annotations

import pytest

from mockserver.config.marker import MARKER_KEYS

# fake: the fake in-process (the default); live: the session's live fake over loopback; api: the real API.
TARGETS = ("fake", "live", "api")
DEFAULT_TARGET = "fake"
API_MARKER = "qolaba_api"
# Marker keys that only bound what the fake keeps, so a test setting them asks nothing of the API's behaviour.
_NOT_STEERING = frozenset({"journal_entries", "journal_bytes", "journal_body_bytes"})
STEERING_KEYS = tuple(key for key in MARKER_KEYS if key not in _NOT_STEERING)
# Fixtures that are the fake itself, with no stand-in against the real API.
STEERING_FIXTURES = {
    "qolaba_fake": "the in-process fake for @given tests",
    "make_qolaba_server": "the session's live fake",
}


class TargetError(ValueError):
    """A target the run cannot use; the message is one line."""


def target_of(config: pytest.Config) -> str:
    """The run's target: --qolaba-target, else ini qolaba_target, else fake; TargetError naming a bad value."""
    given = config.getoption("qolaba_target") or config.getini("qolaba_target") or DEFAULT_TARGET
    target = str(given).strip().lower()
    if target not in TARGETS:
        where = "--qolaba-target" if config.getoption("qolaba_target") else "ini qolaba_target"
        raise TargetError(f"{where}={given!r} is not a target: expected one of {', '.join(TARGETS)}")
    return target


def steering_of(item: pytest.Item) -> str | None:
    """One line naming the steering a test asks of the fake (a marker keyword, a fixture), or None."""
    for marker in item.iter_markers("qolaba"):
        keys = [key for key in STEERING_KEYS if key in marker.kwargs]
        if keys:
            given = ", ".join(f"{key}={marker.kwargs[key]!r}" for key in keys)
            return f"steers the fake: @pytest.mark.qolaba({given})"
    for fixture, what in STEERING_FIXTURES.items():
        if fixture in getattr(item, "fixturenames", ()):
            return f"steers the fake: uses {fixture} ({what})"
    return None
