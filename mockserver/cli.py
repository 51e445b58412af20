"""`qolaba-mock`: serve the fake, print the contract. Bad input gets one line on stderr and exit 2."""

from __future__ import annotations

import argparse
import socket
import sys
from typing import NoReturn

from contracts import contract_json, contract_text
from mockserver.config import Config, ConfigError

USAGE_ERROR = 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse would print the whole usage block; one line is easier to act on.
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qolaba-mock", description="A fake of Qolaba's Face Consistency image API.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", help="run the fake on a local port")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one (default: 8000)")
    serve.add_argument("--seed", type=int, default=0, help="seed for ids and images (default: 0)")
    serve.add_argument(
        "--token", action="append", default=[], metavar="T", help="accept only this bearer token (repeatable)"
    )

    spec = commands.add_parser("spec", help="print the contract (contracts/openapi.yaml)")
    spec.add_argument("--json", action="store_true", help="print it as JSON instead of YAML")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command == "spec":
            return _spec(args.json)
        return _serve(Config(host=args.host, port=args.port, seed=args.seed, tokens=frozenset(args.token)))
    except (UsageError, ConfigError) as exc:
        print(f"qolaba-mock: error: {exc}", file=sys.stderr)
        return USAGE_ERROR


def _spec(as_json: bool) -> int:
    if as_json:
        sys.stdout.write(contract_json().decode() + "\n")
    else:
        sys.stdout.write(contract_text())
    return 0


def _serve(config: Config) -> int:
    import uvicorn

    from mockserver.app import create_app

    # Bind before starting uvicorn so a busy port is a one-line error, and port 0 can report its choice.
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    host, port = sock.getsockname()[:2]
    url_host = f"[{host}]" if family == socket.AF_INET6 else host
    print(f"qolaba-mock serving on http://{url_host}:{port}", flush=True)
    server = uvicorn.Server(uvicorn.Config(create_app(config), log_level="warning", access_log=False))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
