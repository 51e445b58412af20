"""Hypothesis strategies for Qolaba's Face Consistency API, every range read from the contract.

Usage:
    from hypothesis import given
    import strategies

    @given(strategies.boundary_face_requests(celery=True))
    def test_my_client_sends_edges(body): ...

    @given(strategies.invalid_face_requests())
    def test_my_client_reports_the_field(invalid):  # invalid.body, invalid.field, invalid.rule
        ...
"""

from strategies._invalid import RULES, InvalidRequest, Rule, invalid_face_requests
from strategies._status import status_requests, task_ids
from strategies._valid import boundary_face_requests, face_requests
from strategies.profiles import PROFILES, load_profile, register_profiles

__all__ = [
    "PROFILES",
    "RULES",
    "InvalidRequest",
    "Rule",
    "boundary_face_requests",
    "face_requests",
    "invalid_face_requests",
    "load_profile",
    "register_profiles",
    "status_requests",
    "task_ids",
]
