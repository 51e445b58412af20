"""How a failure is reproduced: the request whose answer it is about, as a curl line to paste.

The run's token never appears: it is left to the shell as `$TOKEN`. A credential a check made up is shown as
sent, since the refusal it was meant to get is the point. A line that sends the token with a submit the
contract accepts starts a GPU job when pasted, and the report says so (`FailureRecord.costs_a_job`).

Usage:
    try:
        ...
    except FollowupFailed as failure:
        print(failure.status_code, failure.reason, failure.curl)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contracts.client.target import TOKEN_PLACEHOLDER, Target

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

# schemathesis masks every Authorization header in a curl line, whatever it holds.
_MASKED = "'Authorization: [Filtered]'"
_EXCERPT_BYTES = 400


class FollowupFailed(AssertionError):
    """A check's own follow-up request got an answer that breaks the contract: the failure is about that answer.

    `status_code`, `curl` and `excerpt` describe the follow-up, not the case the check was called with. `curl` shows
    `shown_token` when the request carried that (made-up) token, `$TOKEN` for the run's own credentials.
    """

    def __init__(
        self,
        reason: str,
        *,
        request: Case[Any],
        headers: dict[str, str],
        base_url: str,
        answer: Response,
        shown_token: str | None = None,
    ) -> None:
        self.reason = reason
        self.status_code = answer.status_code
        self.curl = _curl(request, headers, base_url, shown_token)
        self.excerpt = excerpt(answer)
        super().__init__(f"{reason}; reproduce with: {self.curl}")


def curl_line(case: Case[Any], target: Target) -> str:
    """A pasteable curl for `case` against the real base URL; the token is left to the shell as $TOKEN."""
    return target.redact(_curl(case, {"Authorization": "x"}, target.base_url, shown_token=None))


def excerpt(response: Response | None) -> str:
    if response is None or not response.content:
        return ""
    return response.content[:_EXCERPT_BYTES].decode("utf-8", "replace")


def _curl(case: Case[Any], headers: dict[str, str], base_url: str, shown_token: str | None) -> str:
    command = case.as_curl_command(headers=headers, base_url=base_url)
    sent = headers.get("Authorization", "")
    if shown_token is not None and sent == f"Bearer {shown_token}":
        return command.replace(_MASKED, f"'Authorization: Bearer {shown_token}'")
    return command.replace(_MASKED, f'"Authorization: Bearer {TOKEN_PLACEHOLDER}"')
