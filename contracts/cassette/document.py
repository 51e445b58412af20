"""Reading values out of a parsed HAR or VCR document: each wrong one is a CassetteError naming where it is."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from contracts.cassette.jsonl import CassetteError

_SHOWN = 40


class Reader:
    """Looks values up in one object of a document; `where` names it in errors (`prod.har: entry 3: request`)."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise CassetteError(f"{where} must be an object, not {_kind(data)}")
        self.data, self.where = data, where

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = None, *, required: bool = False) -> Any:
        value = self.data.get(key)
        if value is None:  # JSON's null and YAML's ~ say "none" as an absent key does
            if required:
                raise CassetteError(f"{self._at(key)} is missing")
            return default
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise CassetteError(f"{self._at(key)}={_shown(value)} must be {_names(kind)}")
        if not isinstance(value, kind):
            raise CassetteError(f"{self._at(key)}={_shown(value)} must be {_names(kind)}")
        return value

    def _at(self, key: str) -> str:
        return f"{self.where} {key}" if self.where.endswith(":") else f"{self.where}.{key}"

    def child(self, key: str, *, required: bool = True) -> Reader:
        value = self.data.get(key)
        return Reader({} if value is None and not required else value, self._at(key))


def decoded(text: str, encoding: str | None, where: str) -> bytes:
    """A recorded body's bytes: base64 as the recording says, else the text as UTF-8."""
    if encoding is not None and encoding.lower() == "base64":
        try:
            # MIME-style line breaks are common in base64 bodies; anything else outside the alphabet is not base64.
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise CassetteError(f"{where} says base64 but is not") from None
    return text.encode("utf-8", "surrogatepass")


def timestamp(value: Any, where: str) -> float:
    """Seconds since the epoch of an ISO 8601 time (HAR, schemathesis) or an RFC 2822 one (Ruby's VCR)."""
    if isinstance(value, datetime):  # YAML reads an unquoted timestamp itself
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            try:
                moment = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                raise CassetteError(f"{where}={_shown(value)} must be a date and time (ISO 8601)") from None
    else:
        raise CassetteError(f"{where}={_shown(value)} must be a date and time (ISO 8601)")
    if moment.tzinfo is None:
        raise CassetteError(f"{where}={_shown(str(value))} must say its time zone (Z or +00:00)")
    return moment.timestamp()


def _names(kind: type | tuple[type, ...]) -> str:
    words = {str: "a string", int: "an integer", float: "a number", list: "an array", dict: "an object"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(dict.fromkeys(words.get(k, k.__name__) for k in kinds))


def _kind(value: Any) -> str:
    return "null" if value is None else _names(type(value))


def _shown(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
