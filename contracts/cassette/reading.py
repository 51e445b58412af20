"""Any recording, recognised by its content: our JSON lines, HAR 1.2, or a VCR cassette (VCR.py's or Ruby's).

Our format is read a line at a time (contracts/cassette/jsonl.py). A HAR or VCR file is one document, parsed
whole, so it is refused past `MAX_DOCUMENT_BYTES` before a byte of it is parsed (README, "Limits"). JSON is
decoded as strictly as a request body (contracts/spec/strict_json.py); YAML safely (no Python objects), and a
document that uses YAML aliases is refused: an alias repeated a million times would make one body a million.

Usage:
    cassette = read_cassette("tests/cassettes/test_face/test_generate.yaml", max_seconds=3600)
    for note in cassette.notes: print(note)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import yaml

from contracts.cassette.har import read_har
from contracts.cassette.jsonl import Cassette, CassetteError, collector_paused, read_jsonl
from contracts.cassette.vcr import read_vcr
from contracts.spec.strict_json import InvalidJson, parse_value

# A HAR or VCR file is parsed whole, so its size bounds the memory a read takes (bench/bench_recording_read.py):
# a JSON document (HAR, VCR as JSON) takes about 3x its size while read, YAML about 15x (and 4 MB a second).
MAX_DOCUMENT_BYTES = 64 << 20
MAX_YAML_BYTES = 16 << 20
_HEAD = 64 << 10  # bytes read to recognise a file
_OURS = re.compile(rb'\A\s*\{\s*"qolaba_mock_cassette"\s*:')
FORMATS = "our JSON lines (qolaba-mock record), a HAR 1.2 file, or a VCR cassette (VCR.py's or schemathesis's)"


def read_cassette(path: str | Path, *, max_seconds: float | None = None) -> Cassette:
    """The recording at `path`, whichever of the three formats its content is; CassetteError (one line) names
    the file and the line or entry at fault. `max_seconds` bounds each exchange's seconds and task offset."""
    source = str(path)
    try:
        with Path(path).open("rb") as file:
            head = file.read(_HEAD)
            size = file.seek(0, 2)
    except OSError as exc:
        raise CassetteError(f"{source}: cannot be read: {exc.strerror}") from None
    if not head.strip():
        raise CassetteError(f"{source}: is empty; a recording is {FORMATS}")
    if _OURS.match(head):
        return read_jsonl(path, max_seconds=max_seconds)
    is_json = head.lstrip()[:1] in (b"{", b"[")
    limit = MAX_DOCUMENT_BYTES if is_json else MAX_YAML_BYTES
    if size > limit:
        what = "a HAR or JSON file" if is_json else "a YAML cassette"
        raise CassetteError(
            f"{source}: {size / (1 << 20):.0f} MiB is more than the {limit >> 20} MiB {what} may hold "
            "(README, Limits); split it, or record with qolaba-mock record"
        )
    data = Path(path).read_bytes()
    with collector_paused():
        document = _json(data, source) if is_json else _yaml(data, source)
        return _read(document, source, max_seconds)


def _read(document: Any, source: str, max_seconds: float | None) -> Cassette:
    keys = document.keys() if isinstance(document, dict) else ()
    if "log" in keys:
        return read_har(document, source=source, max_seconds=max_seconds)
    if "interactions" in keys or "http_interactions" in keys:
        return read_vcr(document, source=source, max_seconds=max_seconds)
    raise CassetteError(f"{source}: is not a recording qolaba-mock reads; expected {FORMATS}")


def _json(data: bytes, source: str) -> Any:
    try:
        return parse_value(data, subject="The file")
    except InvalidJson as exc:
        where = _json_position(data)
        cut = " (cut short?)" if where and not data.rstrip().endswith((b"}", b"]")) else ""
        raise CassetteError(f"{source}{where}: not JSON{cut}: {exc}") from None


def _json_position(data: bytes) -> str:
    try:
        orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        return f":{exc.lineno}"
    return ""  # valid JSON our stricter rules refuse (NaN, too deep): the message says why


def _yaml(data: bytes, source: str) -> Any:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML was built with it
    try:
        document = yaml.load(data, Loader=loader)  # a safe loader: plain data, never Python objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark is not None else ""
        raise CassetteError(f"{source}{where}: not a recording ({FORMATS}): {exc.problem or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise CassetteError(f"{source}: not a recording ({FORMATS}): {type(exc).__name__}") from None
    if _shares_values(document):
        raise CassetteError(f"{source}: uses YAML aliases (&anchor / *alias), which no VCR cassette needs; refused")
    return document


def _shares_values(document: Any) -> bool:
    """Whether any list, object or long text appears twice by identity: only an alias makes a loader do that."""
    seen: set[int] = set()
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, dict | list) or (isinstance(value, str | bytes) and len(value) > 64):
            if id(value) in seen:
                return True
            seen.add(id(value))
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False
