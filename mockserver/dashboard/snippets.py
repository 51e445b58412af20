"""An exchange as something to paste: a curl line and a Python `httpx` call, sending the same body again.

The token is never in them: a curl line leaves it to the shell as `$TOKEN`, the Python call reads it from the
`TOKEN` environment variable. (The contract tools' curl builder, contracts/client/curl.py, sits above the
fake in the layers; both show the token with `curl_bearer_argument` from contracts/spec/credentials.py.)
"""

from __future__ import annotations

import shlex
from typing import Any

from contracts.spec.credentials import AUTHORIZATION, curl_bearer_argument
from mockserver.sim.journal import Entry


def _body_text(entry: Entry) -> str | None:
    if not entry.request.size:
        return None
    return entry.request.kept.decode("utf-8", "replace")


def curl_line(entry: Entry, base_url: str) -> str:
    parts = ["curl", "-X", entry.method]
    if entry.token_id is not None:
        parts += ["-H", curl_bearer_argument()]
    for name, value in entry.steering:
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = _body_text(entry)
    if body is not None:
        media_type = entry.request.media_type or "application/json"
        parts += ["-H", shlex.quote(f"Content-Type: {media_type}"), "--data-raw", shlex.quote(body)]
    return " ".join([*parts, shlex.quote(base_url.rstrip("/") + entry.path)])


def httpx_call(entry: Entry, base_url: str) -> str:
    lines = ["import os", "", "import httpx", ""]
    arguments = [repr(entry.method), repr(base_url.rstrip("/") + entry.path)]
    headers = [f"{name!r}: {value!r}" for name, value in entry.steering]
    if entry.token_id is not None:
        headers.insert(0, f'"{AUTHORIZATION}": f"Bearer {{os.environ[\'TOKEN\']}}"')
    if headers:
        arguments.append(f"headers={{{', '.join(headers)}}}")
    body: Any = entry.request_body
    if entry.request.size and not entry.request.truncated and isinstance(body, dict | list):
        arguments.append(f"json={body!r}")
    elif entry.request.size:
        arguments.append(f"content={entry.request.kept!r}")
    lines.append(f"response = httpx.request({', '.join(arguments)})")
    lines.append("print(response.status_code, response.text)")
    return "\n".join(lines)
