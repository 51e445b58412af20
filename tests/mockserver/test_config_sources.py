"""Config sources: flags > environment (QOLABA_MOCK_*) > TOML file; a bad value is one line naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver import ConfigError
from mockserver.cli import main
from mockserver.config_sources import load_config


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mock.toml"
    path.write_text(text)
    return str(path)


def test_flags_beat_environment_which_beats_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'seed = 1\nlatency = "fixed:1s"\nfidelity = "legacy"\nfaults = ["http_500:every:2"]\n')
    env = {"QOLABA_MOCK_SEED": "2", "QOLABA_MOCK_LATENCY": "fixed:2s", "QOLABA_MOCK_FAULTS": "nsfw:nth:2,5;no_face"}

    config = load_config({"seed": 3, "latency": None}, env, path)

    assert config.seed == 3  # flag
    assert config.latency == "fixed:2s"  # environment
    assert config.faults == ("nsfw:nth:2,5", "no_face")  # environment, split on ';' since specs hold commas
    assert config.fidelity == "production-2024"  # file, by its old name "legacy"


def test_defaults_sit_below_every_source() -> None:
    assert load_config({}, {}, defaults={"latency": "workload"}).latency == "workload"
    assert load_config({}, {"QOLABA_MOCK_LATENCY": "none"}, defaults={"latency": "workload"}).latency == "none"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("seed = -1\n", "seed=-1 must be a non-negative integer"),
        ('colour = "blue"\n', "unknown key 'colour'"),
        ("port = \n", "is not valid TOML"),
        ('latency = "fixed:-1s"\n', "latency: "),
        ('faults = ["http_429:2"]\n', "faults: "),
        ('rate_limit = "many"\n', "rate_limit="),
        ('clock = "sundial"\n', "clock='sundial' must be 'system' or 'virtual'"),
    ],
)
def test_bad_file_value_is_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({}, {}, write(tmp_path, text))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QOLABA_MOCK_PORT": "eighty"}, "QOLABA_MOCK_PORT='eighty' is not a valid port"),
        ({"QOLABA_MOCK_COLOUR": "blue"}, "QOLABA_MOCK_COLOUR is not a setting"),
        ({"QOLABA_MOCK_TIME_SCALE": "0"}, "time_scale=0.0 must be a positive number"),
    ],
)
def test_bad_environment_value_is_refused_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({}, env)
    assert message in str(raised.value)


def test_missing_config_file_is_a_one_line_cli_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--config", str(tmp_path / "absent.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be read" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--fault", "http_429:1.5"], "faults: "),
        (["serve", "--fault", "teleport"], "faults: "),
        (["serve", "--latency", "uniform:2s..1s"], "latency: "),
        (["serve", "--rate-limit", "0/min"], "rate_limit="),
        (["serve", "--time-scale", "-1"], "time_scale=-1.0 must be a positive number"),
        (["serve", "--clock", "sundial"], "invalid choice: 'sundial'"),
    ],
)
def test_bad_fault_latency_and_rate_flags_exit_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
