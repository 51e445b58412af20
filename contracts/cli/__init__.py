"""The contract tools' subcommands of `qolaba-mock`: contract, probe, record and diff."""
