"""The `contract` and `probe` subcommands of `qolaba-mock`: arguments, safety defaults, exit codes.

Exit codes: 0 the API conforms, 1 violations (drift) found, 2 usage or connection error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from contracts.cli.arguments import non_negative_int, non_negative_seconds, pacing_of, positive_int, timing_arguments
from contracts.client.target import DEFAULT_TOKEN_ENV, Target, TargetError, resolve_target
from contracts.spec.dialects import read_answer
from contracts.spec.schema import STATUS, operation_path

if TYPE_CHECKING:
    # Imported lazily at run time: schemathesis is heavy, and `qolaba-mock serve` should start fast.
    from contracts.client.progress import Progress
    from contracts.client.target import Mode
    from contracts.run.engine import RunOptions

# Non-loopback defaults: a production run spends little and goes slowly unless told otherwise.
REMOTE_MAX_SPEND = 3
REMOTE_RATE_LIMIT = "2/s"
AUTH_CHECKS = frozenset({"auth_is_enforced", "ignored_auth"})


def add_commands(commands: Any) -> None:
    """Register `contract` and `probe` on the `qolaba-mock` subparsers."""
    contract = commands.add_parser(
        "contract",
        help="check an API (production or a fake) against the contract",
        description="Exit 0 conforms, 1 violations found, 2 usage or connection error. "
        "Against a host that is not loopback the mode is safe unless --mode full is given.",
    )
    _target_arguments(contract)
    contract.add_argument(
        "--mode",
        choices=["free", "safe", "full"],
        help="free: only requests refused before any job; safe: only requests the contract rejects; "
        "full: valid submits too (default: full on loopback, safe elsewhere)",
    )
    contract.add_argument(
        "--max-examples", type=positive_int, default=20, metavar="N", help="fuzzed cases per phase (default: 20)"
    )
    contract.add_argument(
        "--max-spend",
        type=non_negative_int,
        metavar="N",
        help=f"full mode: at most N valid submits (GPU jobs); default {REMOTE_MAX_SPEND}, no cap on loopback",
    )
    contract.add_argument(
        "--rate-limit",
        type=_rate,
        metavar="N/UNIT",
        help=f"e.g. 2/s, 100/m or 60/min (default: {REMOTE_RATE_LIMIT}, no limit on loopback)",
    )
    timing_arguments(contract)
    contract.add_argument("--seed", type=int, default=0, help="same seed, same requests (default: 0)")
    contract.add_argument(
        "--status-reads",
        action="store_true",
        help="safe mode: also send valid /getImage reads of made-up task ids (they read PENDING; no job starts; "
        "default: off)",
    )
    contract.add_argument(
        "--report-dir", type=Path, metavar="DIR", help="write junit.xml and report.html here (default: none)"
    )

    probe = commands.add_parser(
        "probe",
        help="boundary conformance matrix: each documented bound and its neighbours, expected vs observed",
        description="Every probe request also breaks a required field, so no request makes an image; a backend "
        "that checks fields inside the GPU job (production does) still invokes a job to refuse it, which "
        "--mode free avoids. Exit 0 no drift, 1 drift found, 2 usage or connection error.",
    )
    _target_arguments(probe)
    probe.add_argument(
        "--mode",
        choices=["safe", "free"],
        default="safe",
        help="safe: no image is made; free: no request reaches a GPU worker, in-job rules not reached (default: safe)",
    )
    timing_arguments(probe)
    probe.add_argument("--json", action="store_true", help="print the matrix as JSON instead of a table (default: off)")
    probe.add_argument(
        "--interval",
        type=non_negative_seconds,
        default=None,
        metavar="S",
        help="pause between requests (default: 0.5 s, none on loopback)",
    )


def _target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url", required=True, help="the API, e.g. https://qolaba-server-b2b.up.railway.app/api/v1/studio"
    )
    parser.add_argument(
        "--token-env",
        default=DEFAULT_TOKEN_ENV,
        metavar="NAME",
        help=f"environment variable holding the API token (default: {DEFAULT_TOKEN_ENV})",
    )


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run `contract` or `probe`; `environ` holds the token variable, and `CI` (which makes progress plain lines)."""
    target = resolve_target(args.base_url, args.token_env, environ)
    check_reachable(target, args.request_timeout)
    progress = _progress(target, environ)
    if args.command == "probe":
        return _probe(target, args, progress)
    return _contract(target, args, progress)


def _contract(target: Target, args: argparse.Namespace, progress: Progress) -> int:
    from contracts.run.engine import run_contract
    from contracts.run.report import summary, write_reports

    options = contract_options(target, args)
    if args.report_dir is not None:
        _writable(args.report_dir)  # before the run, not after minutes of requests
    print(_plan(target, options), file=sys.stderr, flush=True)
    outcome = run_contract(target, options, progress=progress)
    print(summary(outcome))
    if target.is_loopback and any(check in AUTH_CHECKS for _, check in outcome.failing):
        print(f"hint: qolaba-mock serve accepts any token unless started with --token ${target.token_env}")
    if args.report_dir is not None:
        try:
            written = write_reports(outcome, args.report_dir)
        except OSError as exc:
            raise TargetError(f"cannot write the reports to {args.report_dir}: {exc.strerror}") from None
        for path in written:
            print(f"wrote {path}")
    return outcome.exit_code


def _progress(target: Target, environ: Mapping[str, str]) -> Progress:
    from contracts.client.progress import progress_for

    # A CI log keeps every rewrite of a live line, even where the runner gives it a terminal.
    live = sys.stderr.isatty() and not environ.get("CI")
    return progress_for(sys.stderr, live=live, redact=target.redact)


def _writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".qolaba-mock-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise TargetError(f"--report-dir {directory}: {exc.strerror or exc}") from None


def contract_options(target: Target, args: argparse.Namespace) -> RunOptions:
    """The run's settings: what the user asked for, else the safe default for where the target is."""
    from contracts.run.engine import RunOptions

    mode: Mode = args.mode or ("full" if target.is_loopback else "safe")
    max_spend = args.max_spend if args.max_spend is not None else (None if target.is_loopback else REMOTE_MAX_SPEND)
    rate_limit = args.rate_limit or (None if target.is_loopback else REMOTE_RATE_LIMIT)
    options = RunOptions(
        mode=mode,
        max_examples=args.max_examples,
        max_spend=max_spend,
        rate_limit=rate_limit,
        request_timeout=args.request_timeout,
        task_timeout=args.task_timeout,
        poll_interval=args.poll_interval,
        seed=args.seed,
        status_reads=args.status_reads,
    )
    return options


def _plan(target: Target, options: RunOptions) -> str:
    if options.mode == "free":
        return (
            f"qolaba-mock contract: {target.base_url}, free mode: only requests refused before any job "
            "(no GPU worker is invoked)"
        )
    if options.mode == "safe":
        return (
            f"qolaba-mock contract: {target.base_url}, safe mode: only requests the contract rejects; a backend that "
            "checks fields inside the job still invokes one to refuse them (no image), and runs any it accepts "
            "(--mode free invokes none)"
        )
    cap = "no cap" if options.max_spend is None else f"at most {options.max_spend}"
    return (
        f"qolaba-mock contract: {target.base_url}, full mode: valid submits forced to celery:true, {cap} "
        f"(each starts a GPU job), rate limit {options.rate_limit or 'none'}"
    )


def _probe(target: Target, args: argparse.Namespace, progress: Progress) -> int:
    import json

    from contracts.probe.matrix import run_probe
    from contracts.traffic.fingerprint import agreements

    interval = args.interval if args.interval is not None else (0.0 if target.is_loopback else 0.5)
    report = run_probe(target, pacing_of(args, min_interval=interval), free=args.mode == "free", progress=progress)
    # Each profile's fake answers the same matrix in-process; the closest one is named last.
    profiles = agreements(report) if report.rows else []
    closest = max(profiles, key=lambda agreement: agreement.agreeing) if profiles else None
    if args.json:
        found = report.to_json()
        found["profiles"] = [{**a.__dict__, "differing": list(a.differing)} for a in profiles]
        found["closest_profile"] = closest.profile if closest else None
        print(target.redact(json.dumps(found, indent=2)))
    else:
        print(target.redact(report.table()))
        if closest is not None:
            print(target.redact(closest.line()))
    return 1 if report.drifted else 0


def check_reachable(target: Target, timeout: float) -> None:
    """Stop before the run when the target does not answer or refuses the token: a refused token makes every
    answer a 401 the contract allows, so a run would read as a pass."""
    # One request the contract rejects (`{}` lacks the required id), so it costs nothing anywhere; every dialect
    # checks the key before it reads the id (docs/fidelity.md), so a refused key shows here.
    try:
        response = httpx.post(
            target.base_url + operation_path(STATUS), json={}, headers=target.auth_headers, timeout=timeout
        )
    except httpx.TimeoutException as exc:
        raise TargetError(
            f"cannot reach {target.base_url}: no answer within {timeout:g} s ({type(exc).__name__})"
        ) from None
    except httpx.HTTPError as exc:
        raise TargetError(f"cannot reach {target.base_url}: {type(exc).__name__}: {exc}") from None
    reading = read_answer(response.status_code, _json(response))
    if reading.refuses_credentials:
        # The backend's words are in error_data ("('Invalid API Key',)"); its `error` is only "Internal Error".
        words = reading.error_data or reading.error
        said = f": {words}" if words else ""
        raise TargetError(
            target.redact(
                f"{target.base_url} refused the token in ${target.token_env} (HTTP {response.status_code}{said}); "
                "nothing was checked"
            )
        )


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _rate(text: str) -> str:
    from mockserver.behaviour.ratelimit import RateLimitError, parse_rate_limit

    try:
        # The serve grammar, in schemathesis's own spelling (it takes only N/s, N/m, N/h and N/d).
        return parse_rate_limit(text).short
    except RateLimitError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
