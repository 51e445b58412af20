"""`qolaba-mock`'s help, version and bare call: every option says what it does and what it defaults to, and the
README's Commands table names every option."""

from __future__ import annotations

import argparse
import dataclasses
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from mockserver.cli import build_parser, main
from mockserver.config.settings import Config

README = Path(__file__).resolve().parents[2] / "README.md"
# Settings `serve` fills in itself before Config's own defaults (mockserver/cli.py, `_serve_config`).
SERVE_DEFAULTS = {"latency": "workload"}
# `serve` flags whose Config field has another name.
SERVE_FIELDS = {"token": "tokens", "fault": "faults", "allowed_host": "allowed_hosts"}


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    chooser = next(action for action in parser._actions if isinstance(action, argparse._SubParsersAction))
    return dict(chooser.choices)


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        action
        for action in parser._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction | argparse._VersionAction)
    ]


def required(parser: argparse.ArgumentParser, action: argparse.Action) -> bool:
    groups = parser._mutually_exclusive_groups
    return action.required or any(group.required and action in group._group_actions for group in groups)


def shown(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _default(field: dataclasses.Field[Any]) -> Any:
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None if field.default is dataclasses.MISSING else field.default


def every_option() -> list[tuple[str, argparse.ArgumentParser, argparse.Action]]:
    return [(name, parser, action) for name, parser in commands().items() for action in options(parser)]


@pytest.mark.parametrize(
    ("command", "parser", "action"), every_option(), ids=[f"{c} {a.option_strings[0]}" for c, _, a in every_option()]
)
def test_every_option_has_help_that_names_its_default(
    command: str, parser: argparse.ArgumentParser, action: argparse.Action
) -> None:
    help_text = action.help or ""

    assert help_text.strip(), f"{command} {action.option_strings[0]} has no help text"
    if not required(parser, action):
        assert "default" in help_text, f"{command} {action.option_strings[0]}: {help_text!r} names no default"
    if action.default not in (None, False):
        assert f"default: {shown(action.default)}" in help_text


def test_every_serve_option_with_a_config_default_names_that_default() -> None:
    defaults = {field.name: _default(field) for field in dataclasses.fields(Config)} | SERVE_DEFAULTS
    serve = commands()["serve"]
    missing = []
    for action in options(serve):
        default = defaults.get(SERVE_FIELDS.get(action.dest, action.dest))
        if default not in (None, False, (), frozenset()) and f"default: {shown(default)}" not in (action.help or ""):
            missing.append(f"{action.option_strings[0]} (default {default!r}): {action.help!r}")

    assert missing == []


def test_the_readme_commands_table_names_every_option_of_every_command() -> None:
    rows = {
        line.split("`")[1].split()[1]: line
        for line in README.read_text().splitlines()
        if line.startswith("| `qolaba-mock ")
    }
    missing = [
        f"{name} {action.option_strings[0]}"
        for name, parser in commands().items()
        for action in options(parser)
        if action.option_strings[0] not in rows.get(name, "")
    ]

    assert missing == []


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0
    assert capsys.readouterr().out == f"qolaba-mock {version('qolaba-mock')}\n"


def test_a_bare_call_prints_the_usage_and_every_command_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2

    err = capsys.readouterr().err
    assert err.startswith("usage: qolaba-mock [-h] [--version] COMMAND ...")
    assert all(f"    {name} " in err for name in commands())
