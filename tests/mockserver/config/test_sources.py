"""Config sources: flags > environment (QOLABA_MOCK_*) > TOML file; a bad value is one line naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver import ConfigError
from mockserver.cli import main
from mockserver.config.sources import load_config


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
        ('latency = "fixed:-1s"\n', "latency='fixed:-1s' must not be negative"),
        ('faults = ["http_429:2"]\n', "fault='http_429:2' probability must be between 0 and 1"),
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
        ({"QOLABA_MOCK_PORT": "eighty"}, "QOLABA_MOCK_PORT='eighty': port='eighty' must be an integer 0..65535"),
        ({"QOLABA_MOCK_COLOUR": "blue"}, "QOLABA_MOCK_COLOUR is not a setting"),
        ({"QOLABA_MOCK_TIME_SCALE": "0"}, "time_scale=0.0 must be a positive number"),
        ({"QOLABA_MOCK_HEADER_TIMEOUT": "soon"}, "QOLABA_MOCK_HEADER_TIMEOUT='soon': header_timeout='soon' must be"),
        ({"QOLABA_MOCK_MAX_CONNECTIONS": "0"}, "max_connections=0 must be a positive integer"),
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
        (["serve", "--fault", "http_429:1.5"], "--fault: fault='http_429:1.5' probability"),
        (["serve", "--fault", "teleport"], "--fault: fault='teleport' names no known fault"),
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


def test_a_bad_environment_value_names_its_variable_and_the_text_it_holds() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({}, {"QOLABA_MOCK_LATENCY": "soon"})
    assert str(raised.value).startswith("QOLABA_MOCK_LATENCY='soon': latency='soon' is not a latency spec")


def test_a_bad_file_value_names_the_file_and_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'seed = "x"\n')
    with pytest.raises(ConfigError) as raised:
        load_config({}, {}, path)
    assert str(raised.value) == f"{path}: seed='x' must be a non-negative integer"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ({"latency": "soon"}, "--latency: latency='soon' is not a latency spec"),
        ({"rate_limit": "lots"}, "--rate-limit: rate_limit='lots' is not a rate"),
        ({"port": "eighty"}, "--port: port='eighty' must be an integer 0..65535"),
        ({"faults": ("teleport",)}, "--fault: fault='teleport' names no known fault"),
    ],
)
def test_a_bad_flag_value_names_the_flag(flags: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(flags, {})
    assert str(raised.value).startswith(message)


def test_every_bad_setting_is_reported_at_once_each_named_by_its_source(tmp_path: Path) -> None:
    path = write(tmp_path, 'seed = "x"\nclock = "sundial"\n')
    env = {"QOLABA_MOCK_LATENCY": "soon", "QOLABA_MOCK_COLOUR": "blue"}

    with pytest.raises(ConfigError) as raised:
        load_config({"port": "eighty", "time_scale": "-1"}, env, path)

    assert [problem.key for problem in raised.value.problems] == [
        "QOLABA_MOCK_COLOUR",
        "port",
        "seed",
        "time_scale",
        "clock",
        "latency",
    ]
    message = str(raised.value)
    for part in (
        "QOLABA_MOCK_COLOUR is not a setting",
        "--port: port='eighty' must be",
        f"{path}: seed='x' must be",
        "--time-scale: time_scale=-1.0 must be a positive number",
        f"{path}: clock='sundial' must be",
        "QOLABA_MOCK_LATENCY='soon': latency='soon' is not",
    ):
        assert part in message


def test_two_bad_settings_from_the_cli_are_one_line_naming_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("QOLABA_MOCK_LATENCY", "soon")
    path = write(tmp_path, 'seed = "x"\n')

    assert main(["serve", "--config", path]) == 2

    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("qolaba-mock: error: ")
    assert "QOLABA_MOCK_LATENCY='soon': latency='soon'" in err and f"{path}: seed='x' must be" in err


@pytest.mark.parametrize("source", ["flag", "file"])
def test_a_bad_token_names_its_source_and_never_its_value(
    source: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = " sk-live-secret "
    argv = ["serve", "--token", secret] if source == "flag" else ["serve", "--config", write(tmp_path, "")]
    if source == "file":
        Path(argv[-1]).write_text(f'tokens = ["{secret}"]\n')

    assert main(argv) == 2

    err = capsys.readouterr().err
    assert "sk-live-secret" not in err
    assert ("--token: tokens must be" if source == "flag" else f"{argv[-1]}: tokens must be") in err


@pytest.mark.parametrize(("text", "strict"), [("yes", True), ("1", True), ("off", False), ("False", False)])
def test_replay_strict_reads_the_usual_boolean_words(text: str, strict: bool) -> None:
    assert load_config({}, {"QOLABA_MOCK_REPLAY_STRICT": text}).replay_strict is strict


def test_a_replay_strict_variable_that_is_not_a_boolean_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        load_config({}, {"QOLABA_MOCK_REPLAY_STRICT": "maybe"})
    assert str(raised.value) == "QOLABA_MOCK_REPLAY_STRICT='maybe': replay_strict='maybe' must be true or false"


@pytest.mark.parametrize("spec", ["100/m", "60/min"])
@pytest.mark.parametrize("source", ["flag", "environment", "file"])
def test_the_rate_limit_takes_both_spellings_from_every_source(source: str, spec: str, tmp_path: Path) -> None:
    if source == "flag":
        config = load_config({"rate_limit": spec}, {})
    elif source == "environment":
        config = load_config({}, {"QOLABA_MOCK_RATE_LIMIT": spec})
    else:
        config = load_config({}, {}, write(tmp_path, f'rate_limit = "{spec}"\n'))
    assert config.rate_limit == spec


def test_serve_refuses_a_rate_it_cannot_read_showing_the_accepted_forms(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--rate-limit", "60/minutes"]) == 2
    assert capsys.readouterr().err == (
        "qolaba-mock: error: --rate-limit: rate_limit='60/minutes' is not a rate; expected N/s|sec|second, "
        "N/m|min|minute, N/h|hour or N/d|day, with N >= 1\n"
    )


def test_tokens_come_from_the_environment_so_that_they_stay_out_of_the_process_list() -> None:
    config = load_config({}, {"QOLABA_MOCK_TOKENS": "sk-one, sk-two"})

    assert config.tokens == frozenset({"sk-one", "sk-two"})


def test_an_empty_tokens_variable_is_refused_rather_than_read_as_any_token_goes() -> None:
    # `QOLABA_MOCK_TOKENS="$QOLABA_API_KEY"` with the key unset.
    with pytest.raises(ConfigError, match="QOLABA_MOCK_TOKENS is empty; unset it to accept any token"):
        load_config({}, {"QOLABA_MOCK_TOKENS": " "})


def test_the_read_bounds_are_set_by_flag_environment_or_file(tmp_path: Path) -> None:
    path = write(tmp_path, "max_connections = 50\n")
    config = load_config({"header_timeout": "2.5"}, {"QOLABA_MOCK_BODY_TIMEOUT": "4"}, path)

    assert (config.header_timeout, config.body_timeout, config.max_connections) == (2.5, 4.0, 50)
