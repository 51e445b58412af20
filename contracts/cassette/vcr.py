"""Reading VCR cassettes: VCR.py's layout (`vcrpy`, `pytest-recording`) and Ruby VCR's (`st run --report vcr`).

VCR.py (format version 1, YAML or JSON): `{"interactions": [{"request": {"method", "uri", "body", "headers"},
"response": {"status": {"code"}, "headers", "body": {"string"}}}], "version": 1}`, headers as lists of values,
bodies as text or bytes (YAML `!!binary`). It keeps no timestamps, so exchanges are taken in order.

Ruby VCR (`http_interactions`, as schemathesis writes it): bodies as `{"encoding", "string"}` or
`{"base64_string"}`, `recorded_at` a timestamp (ISO 8601 or RFC 2822), and schemathesis's `elapsed`.

Usage:
    cassette = read_vcr(yaml.safe_load(Path("cassettes/test_face.yaml").read_text()), source="test_face.yaml")
"""

from __future__ import annotations

from typing import Any

from contracts.cassette.document import Reader, decoded, timestamp
from contracts.cassette.interactions import Interaction, build_cassette
from contracts.cassette.jsonl import Cassette, CassetteError

# The one cassette format VCR.py has written since 1.0 (vcr/serializers/compat.py, CASSETTE_FORMAT_VERSION).
VCRPY_VERSION = 1


def read_vcr(document: Any, *, source: str, max_seconds: float | None = None) -> Cassette:
    """The API's calls in a parsed VCR cassette of either layout; CassetteError names `source` and the
    interaction at fault."""
    cassette = Reader(document, f"{source}:")
    if "http_interactions" in cassette.data:
        listed = cassette.get("http_interactions", list)
        interactions = [_ruby(item, f"{source}: interaction {n}") for n, item in enumerate(listed, 1)]
        return build_cassette(interactions, source=source, kind="VCR", max_seconds=max_seconds)
    version = cassette.get("version", (int, str), None)
    if version != VCRPY_VERSION:
        raise CassetteError(
            f"{source}: a VCR.py cassette of format version {version!r}; qolaba-mock reads version {VCRPY_VERSION}, "
            "which every VCR.py since 1.0 writes"
        )
    listed = cassette.get("interactions", list, required=True)
    interactions = [_vcrpy(item, f"{source}: interaction {n}") for n, item in enumerate(listed, 1)]
    return build_cassette(interactions, source=source, kind="VCR.py", max_seconds=max_seconds)


def _vcrpy(data: Any, where: str) -> Interaction:
    interaction = Reader(data, where)
    request, response = interaction.child("request"), interaction.child("response")
    body = response.child("body", required=False)
    response_body = body.get("string", (str, bytes))
    return Interaction(
        where=where.partition(": ")[2],
        method=request.get("method", str, required=True),
        url=request.get("uri", str, required=True),
        request_headers=_headers(request),
        request_body=_bytes(request.get("body", (str, bytes), None)),
        status=_code(response.child("status")),
        response_headers=_headers(response),
        response_body=None if response_body is None else _bytes(response_body),
    )


def _ruby(data: Any, where: str) -> Interaction:
    interaction = Reader(data, where)
    request = interaction.child("request")
    response = interaction.child("response", required=False)
    recorded_at = interaction.data.get("recorded_at")
    elapsed = response.get("elapsed", (str, int, float), 0)
    return Interaction(
        where=where.partition(": ")[2],
        method=request.get("method", str, required=True),
        url=request.get("uri", str, required=True),
        request_headers=_headers(request),
        request_body=_ruby_body(request) or b"",
        # schemathesis records a request that got no answer (a timeout) with no response: status 0, skipped.
        status=_code(response.child("status")) if response.data else 0,
        response_headers=_headers(response),
        response_body=_ruby_body(response),
        started=None if recorded_at is None else timestamp(recorded_at, f"{where}.recorded_at"),
        seconds=_seconds(elapsed, f"{response.where}.elapsed"),
    )


def _ruby_body(message: Reader) -> bytes | None:
    body = message.child("body", required=False)
    if "base64_string" in body.data:
        return decoded(body.get("base64_string", str), "base64", f"{body.where}.base64_string")
    text = body.get("string", str)
    return None if text is None else decoded(text, None, f"{body.where}.string")


def _code(status: Reader) -> int:
    code = status.get("code", (int, str), required=True)
    try:
        return int(code)
    except ValueError:
        raise CassetteError(f"{status.where}.code={code!r} must be an HTTP status code") from None


def _seconds(value: Any, where: str) -> float:
    try:
        return max(float(value), 0.0)
    except ValueError:
        raise CassetteError(f"{where}={value!r} must be a number of seconds") from None


def _headers(message: Reader) -> tuple[tuple[str, str], ...]:
    headers = message.get("headers", dict, {}) or {}
    pairs = []
    for name, values in headers.items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append((str(name), _text(value)))
    return tuple(pairs)


def _bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
