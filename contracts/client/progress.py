"""Progress of a long run, on stderr: one line rewritten in place on a terminal, one line per phase elsewhere.

A run says when a phase begins (`phase`) and when a piece of work inside it ends (`step`). On a terminal
both rewrite the same line; in a CI log, where a rewritten line is noise, only phases are written, one
line each. Every text passes through `redact` before it is written, so no token reaches the stream.

Usage:
    progress = progress_for(sys.stderr, redact=target.redact)
    progress.phase("contract: coverage phase")
    progress.step("contract: coverage phase, 40 requests")
    progress.done()
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from typing import Protocol, TextIO

_CLEAR_LINE = "\r\x1b[K"


class Progress(Protocol):
    def phase(self, text: str) -> None:
        """A phase begins."""

    def step(self, text: str) -> None:
        """A piece of work inside the current phase ended."""

    def done(self) -> None:
        """The run ended: leave the stream clean for what follows."""


class Silent:
    """No progress: what a run reports when nobody asked (library calls, tests)."""

    def phase(self, text: str) -> None:
        pass

    def step(self, text: str) -> None:
        pass

    def done(self) -> None:
        pass


class PhaseLines:
    """One line per phase: for a log that is read later, such as CI's."""

    def __init__(self, stream: TextIO, redact: Callable[[str], str] = str) -> None:
        self._stream, self._redact = stream, redact
        self._lock = threading.Lock()

    def phase(self, text: str) -> None:
        with self._lock:
            print(self._redact(text), file=self._stream, flush=True)

    def step(self, text: str) -> None:
        pass

    def done(self) -> None:
        pass


class LiveLine:
    """One line rewritten in place, cut to the terminal's width so it never wraps; cleared when the run ends."""

    def __init__(self, stream: TextIO, redact: Callable[[str], str] = str) -> None:
        self._stream, self._redact = stream, redact
        self._lock = threading.Lock()  # polls end on several threads at once

    def phase(self, text: str) -> None:
        self.step(text)

    def step(self, text: str) -> None:
        width = shutil.get_terminal_size().columns - 1
        shown = self._redact(text)
        shown = shown if len(shown) <= width else shown[: width - 1] + "…"
        with self._lock:
            self._stream.write(_CLEAR_LINE + shown)
            self._stream.flush()

    def done(self) -> None:
        with self._lock:
            self._stream.write(_CLEAR_LINE)
            self._stream.flush()


def progress_for(stream: TextIO, *, live: bool | None = None, redact: Callable[[str], str] = str) -> Progress:
    """`LiveLine` on a terminal, `PhaseLines` anywhere else; `live` overrides what the stream says it is."""
    if live is None:
        live = stream.isatty()
    return LiveLine(stream, redact) if live else PhaseLines(stream, redact)
