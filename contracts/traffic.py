"""The `record` and `diff` subcommands: real traffic, recorded, and the fake measured against it.

Exit codes follow the other commands: 0 fine, 1 differences found (diff), 2 usage or connection error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from contracts.target import TargetError, is_loopback_url


def add_commands(commands: Any) -> None:
    """Register `record` (and `diff`) on the `qolaba-mock` subparsers."""
    record = commands.add_parser(
        "record",
        help="a reverse proxy in front of the API that checks each answer and writes a cassette",
        description="Point your app at the proxy instead of the API. Each exchange is forwarded, checked against the "
        "contract (violations printed as they pass) and appended to the cassette. The token is never written.",
    )
    record.add_argument("--upstream", required=True, help="the API's base URL, e.g. https://…/api/v1/studio")
    record.add_argument("--port", type=int, default=8010, help="port to listen on (0: a free one; default 8010)")
    record.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    record.add_argument("--out", required=True, type=Path, metavar="FILE.jsonl", help="the cassette to write")
    record.add_argument("--request-timeout", type=float, default=300.0, metavar="S", help="per forwarded request")


def run(args: argparse.Namespace) -> int:
    if args.command == "record":
        return _record(args)
    raise TargetError(f"unknown command {args.command!r}")


def _record(args: argparse.Namespace) -> int:
    from contracts.record import recording_proxy
    from mockserver.serving import listening_socket, serve_until_stopped

    upstream = str(args.upstream).rstrip("/")
    if not upstream.startswith(("http://", "https://")):
        raise TargetError(f"--upstream {upstream!r} must be an absolute http:// or https:// URL")
    if args.out.exists():
        raise TargetError(f"--out {args.out} exists; a cassette is never overwritten: choose another file")
    if not args.out.parent.is_dir():
        raise TargetError(f"--out {args.out}: no directory {args.out.parent}")
    sock, url = listening_socket(args.host, args.port)

    def say(line: str) -> None:
        print(line, flush=True)

    app = recording_proxy(upstream, args.out, say=say, timeout=args.request_timeout)
    where = "" if is_loopback_url(upstream) else " (real traffic: each request your app sends is sent to the API)"
    print(f"qolaba-mock recording on {url} -> {upstream}{where}, into {args.out}", flush=True)
    try:
        serve_until_stopped(app, sock)
    finally:
        app.state.close()
        print(f"qolaba-mock: wrote {args.out}", file=sys.stderr)
    return 0
