"""Every curl line the tools print comes from one builder: the run's token left to the shell, a made-up one shown."""

from __future__ import annotations

import shlex

import pytest
import schemathesis

from contracts.client.curl import case_curl_line, credentials_in, curl_line
from contracts.client.target import MADE_UP_TOKEN, Credentials, Target, headers_for
from contracts.spec.credentials import bearer
from contracts.spec.schema import STATUS, load_schema

SECRET = "sk-curl-5d1e-do-not-print"
URL = "https://api.example/api/v1/studio"
SHOWN = {
    "token": "Authorization: Bearer $TOKEN",
    "made-up": f"Authorization: Bearer {MADE_UP_TOKEN}",
    "other": "Authorization: Basic …",
    None: None,
}


def header_of(line: str) -> str | None:
    words = shlex.split(line, posix=True)
    shown = [words[i + 1] for i, word in enumerate(words) if word == "-H" and words[i + 1].startswith("Authorization")]
    return shown[0] if shown else None


@pytest.mark.parametrize("credentials", list(SHOWN))
def test_a_built_request_and_a_schemathesis_case_show_credentials_alike(credentials: Credentials) -> None:
    built = curl_line("POST", f"{URL}/getImage", credentials, {"id": "t-1"})
    operation = schemathesis.openapi.from_dict(load_schema()).find_operation_by_id(STATUS)
    case = case_curl_line(operation.Case(body={"id": "t-1"}, media_type="application/json"), URL, credentials)
    for line in (built, case):
        assert header_of(line) == SHOWN[credentials]
        assert line.startswith("curl -X POST") and line.endswith(f"{URL}/getImage")
        assert shlex.split(line)[shlex.split(line).index("-d") + 1] == '{"id": "t-1"}'


def test_the_token_line_expands_to_the_token_in_a_shell_and_never_holds_it() -> None:
    line = Target(URL, token=SECRET).redact(curl_line("POST", URL, "token", {"id": "x"}))
    assert SECRET not in line and '"Authorization: Bearer $TOKEN"' in line  # double quotes: $TOKEN expands


def test_the_credentials_a_request_sent_are_named_as_a_line_shows_them() -> None:
    assert credentials_in(bearer(SECRET)) == "token"
    assert credentials_in(bearer(MADE_UP_TOKEN)) == "made-up"
    assert credentials_in({}) is None


def test_the_headers_for_each_credential_use_the_one_bearer_builder() -> None:
    assert headers_for("token", SECRET) == bearer(SECRET) == {"Authorization": f"Bearer {SECRET}"}
    assert headers_for("made-up", SECRET) == bearer(MADE_UP_TOKEN)
    assert headers_for("other", SECRET)["Authorization"].startswith("Basic ")
    assert headers_for(None, SECRET) == {}
    assert Target(URL, token=SECRET).auth_headers == bearer(SECRET)
