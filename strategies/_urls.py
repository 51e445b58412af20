"""Image URLs: realistic ones the contract's `pattern` accepts, and near-misses it refuses."""

from __future__ import annotations

import string
from collections.abc import Callable

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

# Few, wide choices keep generation fast (Hypothesis pays per choice): one for the origin, one for the path.
_ORIGINS = [
    f"{scheme}://{host}"
    for scheme in ("https", "http")
    for host in ("example.com", "cdn.example.net", "images.example.org:8443", "localhost:8000", "127.0.0.1")
]
_PATH_ALPHABET = string.ascii_letters + string.digits + "-_.~/"
_PATH = st.text(alphabet=_PATH_ALPHABET, min_size=1, max_size=24)
_EXTENSIONS = ("jpg", "jpeg", "png", "webp")
_URLS = st.builds("{}/{}.{}".format, st.sampled_from(_ORIGINS), _PATH, st.sampled_from(_EXTENSIONS))

# Near-misses a client could plausibly send. Pruned against the contract at import time, so a pattern
# that starts accepting one of them (say ftp) drops it rather than mislabelling it.
NEAR_MISSES = (
    "not a url",
    "ftp://example.com/face.jpg",
    "data:image/png;base64,AAAA",
    "example.com/face.jpg",
    "//example.com/face.jpg",
    "https://",
    "https:/example.com/face.jpg",
    "HTTPS://example.com/face.jpg",
    "https://exa mple.com/face.jpg",
    "https://example.com/fa ce.jpg",
    "https://example.com/face.jpg\n",
    " https://example.com/face.jpg",
    "",
)
_SCHEMES = ("ftp", "file", "s3", "gs", "ws")


def image_urls(accepts: Callable[[str], bool]) -> SearchStrategy[str] | None:
    """`http(s)://host[:port]/path.ext` from a URL-safe alphabet, or None if `accepts` refuses that shape.

    Every origin, extension and path character is probed once here, so no draw needs filtering.
    """
    probes = [f"{origin}/{_PATH_ALPHABET}.{extension}" for origin in _ORIGINS for extension in _EXTENSIONS]
    return _URLS if all(accepts(probe) for probe in probes) else None


def broken_image_urls(accepts: Callable[[str], bool]) -> SearchStrategy[str]:
    """Strings `accepts` refuses: a near-miss from the table, or a real URL with its scheme swapped."""
    near_misses = [text for text in NEAR_MISSES if not accepts(text)]
    if not near_misses:
        return st.nothing()

    def swap_scheme(parts: tuple[str, str]) -> str:
        scheme, url = parts
        swapped = f"{scheme}://{url.partition('://')[2]}"
        # Built directly, never filtered: if the contract ever accepts the swap, fall back to a near-miss.
        return near_misses[0] if accepts(swapped) else swapped

    return st.one_of(st.sampled_from(near_misses), st.tuples(st.sampled_from(_SCHEMES), _URLS).map(swap_scheme))
