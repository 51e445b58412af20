"""The contract's own schemathesis checks, registered when this package is imported.

Usage:
    import contracts.checks  # noqa: F401 - every `case.call_and_validate()` then runs them
"""

from contracts.checks.response_checks import (
    ANSWER_CHECKS,
    CONTRACT_CHECKS,
    REFUSAL_CHECKS,
    auth_is_enforced,
    envelope_shape,
    output_lists_agree,
    output_urls_absolute,
    queued_task_reaches_terminal_state,
    status_matches_http_code,
    time_required_shape,
    validation_lists_every_broken_field,
)

__all__ = [
    "ANSWER_CHECKS",
    "CONTRACT_CHECKS",
    "REFUSAL_CHECKS",
    "auth_is_enforced",
    "envelope_shape",
    "output_lists_agree",
    "output_urls_absolute",
    "queued_task_reaches_terminal_state",
    "status_matches_http_code",
    "time_required_shape",
    "validation_lists_every_broken_field",
]
