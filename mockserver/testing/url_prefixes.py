"""URL prefixes that route requests in respx: the fake's base URL, and the hosts passed through to the network."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

_EXAMPLE = "['http://127.0.0.1:8000']"


def url_prefixes(value: object, *, name: str = "pass_through") -> tuple[str, ...]:
    """`value` checked to be a list of http:// or https:// URL prefixes; ValueError naming `name` otherwise.

    Usage:
        url_prefixes(["http://127.0.0.1:8000", "https://api.example.com/v1/"])
    """
    # A bare string is a sequence too, of one-letter prefixes: refused rather than read letter by letter.
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValueError(f"{name}={value!r} must be a list of http:// or https:// URL prefixes, e.g. {_EXAMPLE}")
    for item in value:
        if not _is_http_prefix(item):
            raise ValueError(f"{name}: {item!r} is not an http:// or https:// URL prefix with a host, e.g. {_EXAMPLE}")
    return tuple(_normalised(item) for item in value)


def prefix_pattern(prefix: str) -> str:
    """A regex matching URLs under `prefix`, which ends at a path boundary unless it ends with "/" itself:
    `http://127.0.0.1:8000` takes `http://127.0.0.1:8000/x`, never `http://127.0.0.1:80001/x`."""
    if prefix.endswith("/"):
        return f"^{re.escape(prefix)}"
    return f"^{re.escape(prefix)}(?:[/?#]|$)"


def _is_http_prefix(item: object) -> bool:
    if not isinstance(item, str) or item != item.strip() or any(c.isspace() for c in item):
        return False
    try:
        parts = urlsplit(item)
        _ = parts.port  # raises on a port out of range or not a number
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _normalised(prefix: str) -> str:
    # httpx lower-cases scheme and host, so a prefix must too, or it would never match.
    parts = urlsplit(prefix)
    origin = len(parts.scheme) + len("://") + len(parts.netloc)
    return prefix[:origin].lower() + prefix[origin:]
