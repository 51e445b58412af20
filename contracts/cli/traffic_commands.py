"""The `record` and `diff` subcommands: real traffic, recorded, and the fake measured against it.

Exit codes follow the other commands: 0 fine, 1 differences found (diff), 2 usage or connection error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.cli.arguments import non_negative_int, pacing_of, port, positive_seconds, timing_arguments
from contracts.client.target import DEFAULT_TOKEN_ENV, Target, TargetError, is_loopback_url, resolve_target

if TYPE_CHECKING:
    from contracts.traffic.comparison import DiffReport


def add_commands(commands: Any) -> None:
    """Register `record` (and `diff`) on the `qolaba-mock` subparsers."""
    from mockserver.behaviour.fidelity.profiles import profile_names

    record = commands.add_parser(
        "record",
        help="a reverse proxy in front of the API that checks each answer and writes a cassette",
        description="Point your app at the proxy instead of the API. Each exchange is forwarded, checked against the "
        "contract (violations printed as they pass) and appended to the cassette. The token is never written.",
    )
    record.add_argument("--upstream", required=True, help="the API's base URL, e.g. https://…/api/v1/studio")
    record.add_argument("--port", type=port, default=8010, help="port to listen on (0: a free one; default: 8010)")
    record.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, loopback only)")
    record.add_argument("--out", required=True, type=Path, metavar="FILE.jsonl", help="the cassette to write")
    record.add_argument(
        "--request-timeout",
        type=positive_seconds,
        default=300.0,
        metavar="S",
        help="seconds to wait for the API's answer to each forwarded request (default: 300)",
    )
    record.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="another Host name to accept on loopback (repeatable, as for serve; default: none)",
    )

    diff = commands.add_parser(
        "diff",
        help="the same requests to a target (live, or a cassette) and to the fake in a profile: every difference",
        description="Exit 0 no differences, 1 differences found, 2 usage or connection error. Against a live host "
        "that is not loopback the mode is safe and the rate 2/s, as for `contract`.",
    )
    against = diff.add_mutually_exclusive_group(required=True)
    against.add_argument("--base-url", help="a live API, e.g. https://qolaba-server-b2b.up.railway.app/api/v1/studio")
    against.add_argument(
        "--cassette", type=Path, metavar="FILE", help="a recording: ours (qolaba-mock record), a HAR or a VCR cassette"
    )
    diff.add_argument(
        "--fidelity",
        default="auto",
        choices=[*profile_names(), "auto"],
        help="the profile to compare with; auto: the closest one (default: auto)",
    )
    diff.add_argument(
        "--mode",
        choices=["free", "safe", "full"],
        help="live only; as for `contract` (default: full on loopback, safe elsewhere)",
    )
    diff.add_argument(
        "--max-spend",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="full mode: valid submits (default: 3, 1 on loopback)",
    )
    diff.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        metavar="NAME",
        help=f"live only: the token's variable (default: {DEFAULT_TOKEN_ENV})",
    )
    diff.add_argument(
        "--cases",
        type=non_negative_int,
        default=20,
        metavar="N",
        help="live only: generated invalid submits (default: 20)",
    )
    diff.add_argument("--seed", type=int, default=0, help="live only: same seed, same generated cases (default: 0)")
    timing_arguments(diff)
    diff.add_argument(
        "--ignore",
        type=_ignored,
        metavar="FIELDS",
        help="answer fields left out of the comparison, names or JSON pointers, e.g. error_data,/output/result "
        "(default: none)",
    )
    diff.add_argument("--json", action="store_true", help="print the differences as JSON (default: a table)")


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run `record` or `diff`; `environ` holds the token variable of a live diff."""
    if args.command == "record":
        return _record(args)
    redact: Callable[[str], str] = str
    if args.cassette is not None:
        report = _diff_cassette(args)
    else:
        target = resolve_target(args.base_url, args.token_env, environ)
        report, redact = _diff_live(target, args), target.redact
    print(redact(json.dumps(report.to_json(), indent=2) if args.json else report.text()))
    return 1 if report.differences else 0


def _diff_cassette(args: argparse.Namespace) -> DiffReport:
    from contracts.cli.cassette_commands import read_recording
    from contracts.traffic.diff import closest_profile, diff_cassette

    cassette = read_recording(args.cassette)
    source = str(args.cassette)
    if args.fidelity != "auto":
        return diff_cassette(cassette, args.fidelity, source=source, ignore=args.ignore or ())
    closest, reports = closest_profile(cassette, source=source, ignore=args.ignore or ())
    counts = ", ".join(f"{r.profile} {len(r.differences)}" for r in reports)
    print(f"closest profile: {closest.profile} (differences: {counts})", file=sys.stderr)
    return closest


def _diff_live(target: Target, args: argparse.Namespace) -> DiffReport:
    from contracts.cli.contract_commands import check_reachable
    from contracts.client.target import Mode
    from contracts.probe.matrix import run_probe
    from contracts.traffic.fingerprint import fingerprint
    from contracts.traffic.live_diff import DiffPlan, diff_live

    check_reachable(target, args.request_timeout)
    mode: Mode = args.mode or ("full" if target.is_loopback else "safe")
    max_spend = args.max_spend if args.max_spend is not None else (1 if target.is_loopback else 3)
    pacing = pacing_of(args, min_interval=0.0 if target.is_loopback else 0.5)
    profile = args.fidelity
    if profile == "auto":
        closest = fingerprint(run_probe(target, pacing, free=mode == "free"))
        print(target.redact(closest.line()), file=sys.stderr)
        profile = closest.profile
    plan = DiffPlan(
        mode=mode,
        max_spend=max_spend if mode == "full" else 0,
        cases=args.cases,
        seed=args.seed,
        ignore=args.ignore or (),
    )
    return diff_live(target, profile, plan, pacing)


def _ignored(text: str) -> tuple[str, ...]:
    from contracts.cassette.ignored_fields import IgnoredFieldError, parse_ignored

    try:
        parse_ignored(text)
    except IgnoredFieldError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return tuple(item.strip() for item in text.split(",") if item.strip())


def _record(args: argparse.Namespace) -> int:
    from contracts.traffic.recording_proxy import recording_proxy
    from mockserver.server.draining import listening_socket, serve_until_stopped

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

    app = recording_proxy(
        upstream,
        args.out,
        say=say,
        timeout=args.request_timeout,
        host=args.host,
        allowed_hosts=tuple(args.allowed_host or ()),
    )
    where = "" if is_loopback_url(upstream) else " (real traffic: each request your app sends is sent to the API)"
    try:
        serve_until_stopped(app, sock, announce=f"qolaba-mock recording on {url} -> {upstream}{where}, into {args.out}")
    finally:
        app.state.close()
        print(f"qolaba-mock: wrote {args.out}", file=sys.stderr)
    return 0
