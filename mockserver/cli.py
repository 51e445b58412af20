"""`qolaba-mock`: serve the fake, print the contract, check an API against it.

Bad input gets one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import Any, NoReturn

from contracts.cli.extra import CONTRACT_COMMANDS, MissingExtra, require_contract_tools
from contracts.client.target import TargetError
from contracts.spec.schema import contract_json, contract_text
from mockserver.behaviour.fidelity.profiles import ALIASES, profile_names
from mockserver.config.settings import Config, ConfigError
from mockserver.config.sources import load_config

USAGE_ERROR = 2
INTERRUPTED = 130  # the shell's code for a command stopped by Ctrl-C


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the whole usage block; one line is easier to act on.
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qolaba-mock", description="A fake of Qolaba's Face Consistency image API.")
    parser.add_argument("--version", action="version", version=f"qolaba-mock {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    serve = commands.add_parser(
        "serve",
        help="run the fake on a local port",
        description="Settings come from flags, then QOLABA_MOCK_* environment variables, then --config FILE.",
    )
    # Flags stay text here: load_config converts them as it does environment variables, so every bad
    # setting, from any source, is reported in one line.
    serve.add_argument("--host", help="address to bind (default: 127.0.0.1, loopback only)")
    serve.add_argument("--port", help="port to bind; 0 picks a free one (default: 8000)")
    serve.add_argument("--seed", help="seed for ids, images, latency noise and faults (default: 0)")
    serve.add_argument(
        "--token",
        action="append",
        metavar="T",
        help="accept only this bearer token (repeatable; default: any token); every local user can read it in the "
        "process list, so prefer QOLABA_MOCK_TOKENS=T1,T2 in the environment",
    )
    serve.add_argument(
        "--latency",
        help="fixed:250ms | uniform:100ms..2s | lognormal:median=800ms,sigma=0.4,max=5s | workload | none "
        "(default: workload, as long as the GPU job would take)",
    )
    serve.add_argument(
        "--time-scale", help="simulated seconds pass this much faster (0.01: 40 s in 0.4 s; default: 1, real time)"
    )
    serve.add_argument(
        "--clock",
        choices=["system", "virtual"],
        help="system: wall time; virtual: time moves only via the admin API (default: system)",
    )
    serve.add_argument(
        "--fault",
        action="append",
        metavar="SPEC",
        help="NAME[:p|every:N|nth:N,M|first:N][@submit|@status] (repeatable; default: none)",
    )
    serve.add_argument(
        "--fidelity",
        metavar="PROFILE",
        help=f"how the fake answers: {' | '.join(profile_names())}, as docs/fidelity.md describes (default: contract)",
    )
    serve.add_argument("--rate-limit", metavar="N/UNIT", help="per-token limit, e.g. 60/min or 100/m (default: none)")
    serve.add_argument(
        "--result-ttl",
        metavar="SECONDS",
        help="how long a finished result can be read (default: the profile's, 3600 s; production: 14400 s)",
    )
    serve.add_argument(
        "--max-latency", metavar="SECONDS", help="longest any request is held (default: 3600 simulated s)"
    )
    serve.add_argument(
        "--header-timeout", metavar="SECONDS", help="real seconds a request's headers may take (default: 10)"
    )
    serve.add_argument(
        "--body-timeout",
        metavar="SECONDS",
        help="real seconds a request's body may take after them (default: 30)",  # not a contract bound
    )
    serve.add_argument("--max-connections", metavar="N", help="open connections at once (default: 1000)")
    serve.add_argument(
        "--allowed-host",
        action="append",
        metavar="NAME",
        help="a Host name accepted on loopback besides localhost and loopback IPs (repeatable; default: none)",
    )
    serve.add_argument(
        "--replay",
        metavar="FILE",
        help="answer the requests a recording holds as recorded: ours, a HAR or a VCR cassette (default: none)",
    )
    serve.add_argument(
        "--replay-strict",
        action="store_true",
        default=None,
        help="with --replay: 404 for anything not recorded (default: the model answers it)",
    )
    serve.add_argument(
        "--replay-ignore",
        metavar="FIELDS",
        help="with --replay: request body fields not matched on, names or JSON pointers, e.g. seed,/input/nonce "
        "(default: none, the whole body is matched)",
    )
    serve.add_argument(
        "--config", metavar="FILE", help="TOML file with the same keys (lowest precedence; default: none)"
    )

    spec = commands.add_parser("spec", help="print the contract (contracts/openapi.yaml)")
    spec.add_argument("--json", action="store_true", help="print it as JSON instead of YAML (default: YAML)")

    from contracts.cli import cassette_commands, contract_commands
    from contracts.cli import traffic_commands as traffic

    contract_commands.add_commands(commands)
    traffic.add_commands(commands)
    cassette_commands.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv:
        # As git does: a bare call shows what there is to call, on stderr, and is a usage error.
        sys.stderr.write(parser.format_help())
        return USAGE_ERROR
    try:
        args = parser.parse_args(argv)
        if args.command == "spec":
            return _spec(args.json)
        if args.command in CONTRACT_COMMANDS:
            require_contract_tools(args.command)
        if args.command in {"contract", "probe"}:
            from contracts.cli.contract_commands import run

            return run(args, os.environ)
        if args.command in {"record", "diff"}:
            from contracts.cli import traffic_commands as traffic

            return traffic.run(args, os.environ)
        if args.command == "cassette":
            from contracts.cli import cassette_commands

            return cassette_commands.run(args)
        return _serve(_serve_config(args))
    except (UsageError, ConfigError, TargetError, MissingExtra) as exc:
        print(f"qolaba-mock: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("qolaba-mock: interrupted", file=sys.stderr)
        return INTERRUPTED


def _serve_config(args: argparse.Namespace) -> Config:
    flags = {
        "host": args.host,
        "port": args.port,
        "seed": args.seed,
        "tokens": frozenset(args.token) if args.token else None,
        "latency": args.latency,
        "time_scale": args.time_scale,
        "clock": args.clock,
        "faults": tuple(args.fault) if args.fault else None,
        "fidelity": args.fidelity,
        "rate_limit": args.rate_limit,
        "result_ttl": args.result_ttl,
        "max_latency": args.max_latency,
        "header_timeout": args.header_timeout,
        "body_timeout": args.body_timeout,
        "max_connections": args.max_connections,
        "allowed_hosts": tuple(args.allowed_host) if args.allowed_host else None,
        "replay": args.replay,
        "replay_strict": args.replay_strict,
        "replay_ignore": args.replay_ignore,
    }
    config = load_config(flags, os.environ, args.config, defaults={"latency": "workload"})
    given = str(args.fidelity or os.environ.get("QOLABA_MOCK_FIDELITY", ""))
    if given in ALIASES:
        print(f"qolaba-mock: note: fidelity {given!r} is now called {ALIASES[given]!r}", file=sys.stderr)
    return config


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qolaba-mock")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def _spec(as_json: bool) -> int:
    if as_json:
        sys.stdout.write(contract_json().decode() + "\n")
    else:
        sys.stdout.write(contract_text())
    return 0


def _serve(config: Config) -> int:
    from mockserver.app import create_app
    from mockserver.http.guards import is_loopback
    from mockserver.server.draining import listening_socket, serve_until_stopped

    if not is_loopback(config.host) and not config.tokens:
        print(
            f"qolaba-mock: warning: serving on {config.host} with no --token: anyone who can reach this port "
            "can call the API and the admin API",
            file=sys.stderr,
        )

    # Built before the URL is announced: a client that reads it may send at once (a cassette is already read).
    app = create_app(config)
    if config.cassette is not None:
        from contracts.cli.cassette_commands import tell_about

        tell_about(config.cassette, str(config.replay))
        # A replayed cassette lives as long as the process: the cyclic collector need never walk its million
        # objects again (each full pass would stall the server for about a second).
        gc.freeze()
    sock, url = listening_socket(config.host, config.port)
    serve_until_stopped(app, sock, announce=f"qolaba-mock serving on {url}\n{_dashboard_line(app, url)}")
    return 0


def _dashboard_line(app: Any, url: str) -> str:
    """Where the dashboard is; with --token, a one-time login URL (Jupyter's way): it carries a code good for
    one browser session, never the token itself."""
    tokens = app.state.backend.config.tokens
    if not tokens:
        return f"dashboard: {url}/__admin/ui/"
    return f"dashboard: {url}/__admin/ui/login?code={app.state.admin_sessions.one_time_code(tokens)} (one-time link)"


if __name__ == "__main__":
    sys.exit(main())
