"""Two answers to the same request compared by what a client acts on, and the report of a diff run.

The HTTP code, the envelope's `status` and `error`, the shape of `error_data` (a list of fields, pydantic's
text naming fields, an exception's args...) or FastAPI's `detail`, the set of keys, the media type, and an
image's size. Task ids, URLs and timings change every call and are not compared.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.cassette.ignored_fields import Pointer, without
from contracts.cassette.jsonl import Exchange
from contracts.spec.dialects import read_answer


@dataclass(frozen=True)
class Answer:
    """What a client acts on in one answer."""

    status_code: int
    media_type: str
    body: Any = None
    image: tuple[int, int] | None = None

    @classmethod
    def of_response(cls, response: httpx.Response) -> Answer:
        media_type = response.headers.get("content-type", "").partition(";")[0].strip()
        if media_type.startswith("image/"):
            return cls(response.status_code, media_type, image=_size(response.content))
        try:
            body = response.json()
        except ValueError:
            body = response.text or None
        return cls(response.status_code, media_type, body)

    @classmethod
    def of_exchange(cls, exchange: Exchange) -> Answer:
        media_type = exchange.headers.get("content-type", "").partition(";")[0].strip()
        image = exchange.response.image
        size = (int(image["width"]), int(image["height"])) if image and "width" in image else None
        body = exchange.response.json if exchange.response.is_json else exchange.response.text
        return cls(exchange.status, media_type, body, size)


def differences(target: Answer, fake: Answer, ignored: tuple[Pointer, ...] = ()) -> list[tuple[str, str, str]]:
    """(part, target's, fake's) for each part a client acts on that differs; `ignored` body fields (names or JSON
    pointers, contracts/cassette/ignored_fields.py) are taken out of both answers first."""
    found: list[tuple[str, str, str]] = []

    def compare(part: str, theirs: Any, ours: Any) -> None:
        if theirs != ours:
            found.append((part, _shown(theirs), _shown(ours)))

    compare("code", target.status_code, fake.status_code)
    compare("media type", target.media_type, fake.media_type)
    if target.image is not None or fake.image is not None:
        compare("image size", target.image, fake.image)
        return found
    theirs, ours = without(target.body, ignored), without(fake.body, ignored)
    if isinstance(theirs, dict) and isinstance(ours, dict):
        compare("keys", sorted(theirs), sorted(ours))
        compare("status", theirs.get("status"), ours.get("status"))
        compare("error", theirs.get("error"), ours.get("error"))
        compare("error_data shape", _shape(theirs), _shape(ours))
    else:
        compare("body", _kind(theirs), _kind(ours))
    return found


def _shape(body: dict[str, Any]) -> str:
    """`error_data`, or FastAPI's `detail`, as a client parses it (values aside)."""
    if "detail" in body and len(body) == 1:
        detail = body["detail"]
        if isinstance(detail, list):
            return "detail list: " + ", ".join(str(e.get("type")) for e in detail if isinstance(e, dict))
        return f"detail {detail!r}"
    reading = read_answer(200, body)
    data = body.get("error_data")
    if reading.dialect == "pydantic":
        return "pydantic text naming " + ", ".join(reading.named)
    if isinstance(data, list):
        return "list naming " + ", ".join(sorted({str(e.get("field")) for e in data if isinstance(e, dict)}))
    if isinstance(data, str) and data.startswith("(") and data.endswith(")"):
        return "exception args " + data[:60]
    return _kind(data)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 90 else text[:89] + "…"


def _size(raw: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as image:
            return image.width, image.height
    except Exception:  # not an image: its size is unknown, which is itself compared
        return None


@dataclass(frozen=True)
class Difference:
    seq: int
    request: str  # a curl line, the token left to the shell as $TOKEN
    part: str
    target: str
    fake: str


@dataclass
class DiffReport:
    against: str
    profile: str
    compared: int = 0
    differences: list[Difference] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"{self.compared} answers compared: {self.against} against the fake in the {self.profile} profile"]
        for seq, group in _by_request(self.differences):
            lines.append(f"#{seq} {group[0].request}")
            lines += [f"    {d.part}: target {d.target}, fake {d.fake}" for d in group]
        count = len(self.differences)
        verdict = f"{count} difference{'s' if count != 1 else ''}" if count else "no differences"
        return "\n".join([*lines, verdict])

    def to_json(self) -> dict[str, Any]:
        return {
            "against": self.against,
            "profile": self.profile,
            "compared": self.compared,
            "differences": [d.__dict__ for d in self.differences],
        }


def _by_request(differences: list[Difference]) -> Iterator[tuple[int, list[Difference]]]:
    groups: dict[int, list[Difference]] = {}
    for difference in differences:
        groups.setdefault(difference.seq, []).append(difference)
    yield from groups.items()
