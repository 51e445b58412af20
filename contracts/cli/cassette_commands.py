"""The `cassette` subcommand: recordings read in any format, and written as ours or as HAR 1.2.

`qolaba-mock cassette convert IN OUT` reads IN by its content (our JSON lines, HAR, VCR.py's or Ruby VCR's
cassette) and writes OUT in the format its name says (`.har`, `.json`: HAR 1.2; `.jsonl`: ours), or `--to`.
It needs none of the contract tools. Exit 0 written, 2 bad input (one line naming the file and the entry).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.client.target import TargetError

if TYPE_CHECKING:
    from contracts.cassette.jsonl import Cassette

_SUFFIXES = {".har": "har", ".json": "har", ".jsonl": "jsonl", ".ndjson": "jsonl"}


def add_commands(commands: Any) -> None:
    """Register `cassette` (and its verb `convert`) on the `qolaba-mock` subparsers."""
    cassette = commands.add_parser(
        "cassette",
        help="convert a recording (ours, HAR, VCR) into ours or HAR 1.2, tokens dropped",
        description="Recordings: ours (qolaba-mock record), HAR 1.2 (browsers' devtools, mitmproxy, st run --report "
        "har) and VCR cassettes (vcrpy, pytest-recording, st run --report vcr), recognised by content.",
    )
    verbs = cassette.add_subparsers(dest="verb", metavar="VERB", required=True, parser_class=type(cassette))
    convert = verbs.add_parser(
        "convert",
        help="write a recording as ours or as HAR 1.2",
        description="Only the API's calls are kept; a token never reaches OUT (each caller is named t1, t2, ...). "
        "OUT is never overwritten.",
    )
    convert.add_argument("input", type=Path, metavar="IN", help="a recording in any format qolaba-mock reads")
    convert.add_argument("output", type=Path, metavar="OUT", help="the file to write: .har/.json (HAR) or .jsonl")
    convert.add_argument("--to", choices=["har", "jsonl"], help="the format to write (default: from OUT's suffix)")


def run(args: argparse.Namespace) -> int:
    """Run `cassette convert`."""
    from contracts.cassette.jsonl_writer import CassetteWriter

    fmt = args.to or _SUFFIXES.get(args.output.suffix.lower())
    if fmt is None:
        raise TargetError(f"OUT {args.output}: say which format to write, with --to har|jsonl or a .har/.jsonl name")
    if args.output.exists():
        raise TargetError(f"OUT {args.output} exists; a recording is never overwritten: choose another file")
    if not args.output.parent.is_dir():
        raise TargetError(f"OUT {args.output}: no directory {args.output.parent}")
    cassette = read_recording(args.input)
    if fmt == "har":
        from contracts.cassette.har_writer import write_har

        write_har(args.output, cassette.exchanges, upstream=cassette.upstream or "http://127.0.0.1:8000")
    else:
        writer = CassetteWriter(args.output, cassette.upstream).open()
        try:
            for exchange in cassette.exchanges:
                writer.write(exchange)
        finally:
            writer.close()
    count = len(cassette.exchanges)
    print(f"qolaba-mock: wrote {args.output} ({count} exchange{'s' if count != 1 else ''}, no token)", file=sys.stderr)
    return 0


def read_recording(path: Path, *, max_seconds: float | None = None) -> Cassette:
    """The recording at `path` (TargetError, one line, if it cannot be read), and what the user should know of
    it said on stderr: the notes, and once, that the file held credentials."""
    from contracts.cassette.jsonl import CassetteError
    from contracts.cassette.reading import read_cassette

    try:
        cassette = read_cassette(path, max_seconds=max_seconds)
    except CassetteError as exc:
        raise TargetError(str(exc)) from None
    tell_about(cassette, str(path))
    return cassette


def tell_about(cassette: Cassette, source: str) -> None:
    """Print a recording's notes on stderr, and a warning if the file held credentials in clear."""
    for note in cassette.notes:
        print(f"qolaba-mock: note: {note}", file=sys.stderr)
    if cassette.held_credentials:
        print(
            f"qolaba-mock: warning: {source} holds credentials in clear (an Authorization header); they were dropped "
            "as it was read and go no further, but treat the file itself as a secret",
            file=sys.stderr,
        )
