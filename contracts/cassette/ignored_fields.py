"""Body fields a comparison leaves out: what varies from call to call (a nonce, a timestamp, a random seed).

The same spelling everywhere it is taken (`serve --replay-ignore`, the `replay_ignore` setting, `diff --ignore`),
in the conventions of VCR.py's `match_on` and WireMock's `ignoreExtraElements`: a comma-separated list whose
items are top-level field names (`seed`) or JSON pointers (RFC 6901: `/input/seed`, `/output/result/0`, with
`~1` for a `/` in a name and `~0` for a `~`). A field that is not there is no error: it is simply not compared.
The default is the empty list: everything is compared.

Usage:
    ignored = parse_ignored("seed,/input/nonce")
    without({"seed": 7, "prompt": "p", "input": {"nonce": 1}}, ignored)   # {"prompt": "p", "input": {}}
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Pointer = tuple[str, ...]


class IgnoredFieldError(ValueError):
    """A field to ignore that is neither a field name nor a JSON pointer; the message names it."""


def parse_ignored(spec: str | Iterable[str]) -> tuple[Pointer, ...]:
    """Each item of `spec` (a comma-separated text, or a list of items) as a JSON pointer's reference tokens."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    pointers = []
    for item in items:
        if not isinstance(item, str):
            raise IgnoredFieldError(f"{item!r} must be a field name or a JSON pointer such as '/input/seed'")
        text = item.strip()
        if not text:
            continue
        pointers.append(_pointer(text))
    return tuple(pointers)


def without(value: Any, ignored: tuple[Pointer, ...]) -> Any:
    """`value` with every field `ignored` names taken out; `value` itself is left as it was."""
    for pointer in ignored:
        value = _removed(value, pointer)
    return value


def _pointer(text: str) -> Pointer:
    if not text.startswith("/"):
        if "~" in text:
            raise IgnoredFieldError(f"{text!r}: a field name holds no '~'; write it as a JSON pointer ('/a~0b')")
        return (text,)
    tokens = text[1:].split("/")
    for token in tokens:
        rest = token.replace("~0", "").replace("~1", "")
        if "~" in rest:
            raise IgnoredFieldError(f"{text!r} is not a JSON pointer: '~' must be followed by 0 or 1 (RFC 6901)")
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in tokens)


def _removed(value: Any, pointer: Pointer) -> Any:
    head, rest = pointer[0], pointer[1:]
    if isinstance(value, dict):
        if head not in value:
            return value
        if not rest:
            return {key: item for key, item in value.items() if key != head}
        return {**value, head: _removed(value[head], rest)}
    if isinstance(value, list) and head.isdigit() and int(head) < len(value):
        index = int(head)
        if not rest:
            return value[:index] + value[index + 1 :]
        return [*value[:index], _removed(value[index], rest), *value[index + 1 :]]
    return value
