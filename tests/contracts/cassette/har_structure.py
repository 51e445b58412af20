"""What a HAR file must hold to be read: the HAR 1.2 structure, and what Chromium's devtools importer requires.

`HAR_1_2` is the structure of the HAR 1.2 spec (W3C Web Performance WG draft, "HTTP Archive (HAR) format"):
each object with its required fields and their types; custom fields (starting with `_`) are allowed anywhere.
`chromium_import_problems` repeats the checks of Chromium's importer (devtools-frontend,
front_end/models/har/HARFormat.ts): an object where it reads one, an `entries` array, a date it can parse, and
every number it casts with `Number()` (a missing one is NaN, which the importer refuses).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_NUMBER = {"type": "number"}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required), "properties": {**required, **(optional or {})}}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


_NAMED = _object({"name": _STRING, "value": _STRING})
_COOKIE = _object({"name": _STRING, "value": _STRING})
_TIMINGS = _object(
    {"send": _NUMBER, "wait": _NUMBER, "receive": _NUMBER},
    {"blocked": _NUMBER, "dns": _NUMBER, "connect": _NUMBER, "ssl": _NUMBER},
)
_REQUEST = _object(
    {
        "method": _STRING,
        "url": {"type": "string", "pattern": "^[a-z]+://"},
        "httpVersion": _STRING,
        "cookies": _list(_COOKIE),
        "headers": _list(_NAMED),
        "queryString": _list(_NAMED),
        "headersSize": _INTEGER,
        "bodySize": _INTEGER,
    },
    {"postData": _object({"mimeType": _STRING}, {"text": _STRING, "params": {"type": "array"}})},
)
_RESPONSE = _object(
    {
        "status": _INTEGER,
        "statusText": _STRING,
        "httpVersion": _STRING,
        "cookies": _list(_COOKIE),
        "headers": _list(_NAMED),
        "content": _object({"size": _INTEGER, "mimeType": _STRING}, {"text": _STRING, "encoding": _STRING}),
        "redirectURL": _STRING,
        "headersSize": _INTEGER,
        "bodySize": _INTEGER,
    }
)
_ENTRY = _object(
    {
        "startedDateTime": {"type": "string", "format": "date-time"},
        "time": {"type": "number", "minimum": 0},
        "request": _REQUEST,
        "response": _RESPONSE,
        "cache": {"type": "object"},
        "timings": _TIMINGS,
    },
    {"pageref": _STRING, "serverIPAddress": _STRING, "connection": _STRING, "comment": _STRING},
)
HAR_1_2 = _object(
    {
        "log": _object(
            {
                "version": {"const": "1.2"},
                "creator": _object({"name": _STRING, "version": _STRING}),
                "entries": _list(_ENTRY),
            },
            {"pages": {"type": "array"}, "comment": _STRING},
        )
    }
)


def chromium_import_problems(har: Any) -> list[str]:
    """Why Chromium's HAR importer would refuse `har` (empty: it imports)."""
    problems: list[str] = []

    def obj(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            problems.append(f"{where}: an object is expected")
            return {}
        return value

    def number(value: Any, where: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            problems.append(f"{where}: Number() gives NaN for {value!r}")

    log = obj(obj(har, "root").get("log"), "log")
    obj(log.get("creator"), "log.creator")
    entries = log.get("entries")
    if not isinstance(entries, list):
        return [*problems, "log.entries is expected to be an array"]
    for index, raw in enumerate(entries):
        entry, where = obj(raw, f"entries[{index}]"), f"entries[{index}]"
        try:
            datetime.fromisoformat(str(entry.get("startedDateTime")))
        except ValueError:
            problems.append(f"{where}.startedDateTime: Invalid date format")
        number(entry.get("time"), f"{where}.time")
        request = obj(entry.get("request"), f"{where}.request")
        response = obj(entry.get("response"), f"{where}.response")
        for side, message in (("request", request), ("response", response)):
            for key in ("headersSize", "bodySize"):
                number(message.get(key), f"{where}.{side}.{key}")
        number(response.get("status"), f"{where}.response.status")
        number(obj(response.get("content"), f"{where}.response.content").get("size"), f"{where}.content.size")
        timings = obj(entry.get("timings"), f"{where}.timings")
        for key in ("send", "wait", "receive"):
            number(timings.get(key), f"{where}.timings.{key}")
    return problems
