"""The recording a Config replays, read once: a config rebuilt with the same file does not read it again."""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from contracts.cassette.jsonl import Cassette


def read_once(path: str, max_seconds: float | None) -> Cassette:
    """The recording at `path` (any format contracts.cassette.reading reads); CassetteError names what is wrong."""
    try:
        stat = os.stat(path)
    except OSError:
        stamp = (0, 0, 0)  # read_cassette names what is wrong with the path
    else:
        stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return _read_cassette_once(path, max_seconds, stamp)


# `PATCH /__admin/config` builds a new Config, which validates everything again: the same unchanged file is not
# read again (a 100,000-line cassette takes a second). One kept: the one a running fake replays.
@functools.lru_cache(maxsize=1)
def _read_cassette_once(path: str, max_seconds: float | None, stamp: tuple[int, int, int]) -> Cassette:
    from contracts.cassette.reading import read_cassette

    return read_cassette(path, max_seconds=max_seconds)
