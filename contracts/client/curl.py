"""How a request is reproduced: a curl line to paste. Every curl line the tools print is built here.

The run's token never appears: it is left to the shell as `$TOKEN`. A made-up token (`MADE_UP_TOKEN`) is shown
as sent, since the refusal it was meant to get is the point. A line that sends the token with a submit the
contract accepts starts a GPU job when pasted, and the report says so (`FailureRecord.costs_a_job`).

Usage:
    curl_line("POST", url, "token", body)            # a request a tool built itself
    case_curl_line(case, base_url, "token")          # a schemathesis case, serialised as schemathesis sends it
    try:
        ...
    except FollowupFailed as failure:
        print(failure.status_code, failure.reason, failure.curl)
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contracts.client.target import MADE_UP_TOKEN, Credentials, headers_for
from contracts.spec.credentials import AUTHORIZATION, bearer, curl_bearer_argument

if TYPE_CHECKING:
    from schemathesis import Case
    from schemathesis.core.transport import Response

# schemathesis masks every Authorization header in a curl line, whatever it holds.
_MASKED = f"'{AUTHORIZATION}: [Filtered]'"
_EXCERPT_BYTES = 400


def curl_line(method: str, url: str, credentials: Credentials, body: Any) -> str:
    """A pasteable curl line for a request a tool built itself; a JSON `body` (or raw text) is sent as JSON."""
    parts = ["curl", "-X", method]
    shown = _shown_credentials(credentials)
    parts += ["-H", shown] if shown else []
    if body is not None:
        text = body if isinstance(body, str) else json.dumps(body)
        parts += ["-H", shlex.quote("Content-Type: application/json"), "-d", shlex.quote(text)]
    return " ".join([*parts, shlex.quote(url)])


def case_curl_line(case: Case[Any], base_url: str, credentials: Credentials) -> str:
    """A pasteable curl line for a schemathesis case sent to `base_url`: its body, media type and headers as
    schemathesis serialises them, the credentials as `curl_line` shows them."""
    # Any value will do: schemathesis masks it, and the mask is replaced by what the line may show.
    command = case.as_curl_command(headers=headers_for(credentials, "x"), base_url=base_url)
    return command.replace(_MASKED, _shown_credentials(credentials) or _MASKED)


def _shown_credentials(credentials: Credentials) -> str | None:
    """The `-H` argument that shows `credentials` in a line: the token as `$TOKEN`, for the shell to fill."""
    if credentials == "token":
        return curl_bearer_argument()
    if credentials == "made-up":
        ((name, value),) = bearer(MADE_UP_TOKEN).items()
        return shlex.quote(f"{name}: {value}")
    if credentials == "other":
        return shlex.quote(f"{AUTHORIZATION}: Basic …")
    return None


def credentials_in(headers: Mapping[str, str]) -> Credentials:
    """Which credentials `headers` present, as a curl line shows them."""
    sent = headers.get(AUTHORIZATION)
    if sent is None:
        return None
    return "made-up" if sent == bearer(MADE_UP_TOKEN)[AUTHORIZATION] else "token"


class FollowupFailed(AssertionError):
    """A check's own follow-up request got an answer that breaks the contract: the failure is about that answer.

    `status_code`, `curl` and `excerpt` describe the follow-up, not the case the check was called with. `curl` shows
    MADE_UP_TOKEN when the request carried it, `$TOKEN` for the run's own credentials.
    """

    def __init__(
        self, reason: str, *, request: Case[Any], headers: dict[str, str], base_url: str, answer: Response
    ) -> None:
        self.reason = reason
        self.status_code = answer.status_code
        self.curl = case_curl_line(request, base_url, credentials_in(headers))
        self.excerpt = excerpt(answer)
        super().__init__(f"{reason}; reproduce with: {self.curl}")


def excerpt(response: Response | None) -> str:
    if response is None or not response.content:
        return ""
    return response.content[:_EXCERPT_BYTES].decode("utf-8", "replace")
