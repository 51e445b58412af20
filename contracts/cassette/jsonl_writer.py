"""Writing a cassette: one line per exchange, whole or not at all, and never a token.

Each line is encoded completely before any of it is written, and written with one call then flushed, so a
cassette cut short by a crash or a signal ends with a whole line. Values are JSON as RFC 8259 has it: the
recorder keeps only what the strict decoder read as JSON (anything else is text, with a note), and a value
that still cannot be encoded is made plain rather than losing its line.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from contracts.cassette.jsonl import Exchange
from contracts.cassette.line_rules import FORMAT
from contracts.cassette.token_names import Auth, TokenNames


@dataclass
class CassetteWriter:
    """Appends exchanges to a new cassette, one line each, flushed as they come (a crash loses nothing).

    Usage:
        writer = CassetteWriter(Path("prod.jsonl"), "https://…/api/v1/studio").open()
        writer.write(exchange)
        writer.close()
    """

    path: Path
    upstream: str
    _file: IO[str] | None = field(default=None, init=False, repr=False)
    _tokens: TokenNames = field(default_factory=TokenNames, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def open(self) -> CassetteWriter:
        self._file = self.path.open("w", encoding="utf-8")
        self._write({"qolaba_mock_cassette": FORMAT, "upstream": self.upstream})
        return self

    def token_name(self, authorization: str | None) -> tuple[Auth, str | None]:
        """(`bearer`/`other`/None, `t1`...): how a caller authenticated, never with what."""
        return self._tokens.of(authorization)

    def write(self, exchange: Exchange) -> None:
        self._write(exchange.to_dict())

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    @property
    def closed(self) -> bool:
        return self._file is None

    def _write(self, line: dict[str, Any]) -> None:
        text = encode_line(line)
        with self._lock:
            if self._file is None:
                return  # closed at shutdown: an answer that arrives after it has no cassette to go to
            self._file.write(text)
            self._file.flush()


def encode_line(line: dict[str, Any]) -> str:
    """`line` as one line of RFC 8259 JSON with its newline; a value JSON cannot hold is made plain."""
    try:
        text = _dumps(line)
        text.encode("utf-8")  # a lone surrogate would fail here, halfway through the file's write
    except (ValueError, UnicodeEncodeError):
        text = _dumps(_plain(line))
    return text + "\n"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))


def _plain(value: Any) -> Any:
    # The last resort, for values no recorder path should produce: NaN and infinities become null, and text
    # with lone surrogates keeps every other character.
    if isinstance(value, dict):
        return {_plain(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    return value
