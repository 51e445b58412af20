"""`diff --cassette` against recordings the real tools made: clean against the profile they recorded, the known
differences against another, and `--ignore` leaving named answer fields out of the comparison."""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts.cassette.reading import read_cassette
from contracts.traffic.diff import closest_profile, diff_cassette
from mockserver.cli import main
from tests.contracts.cassette.real_recordings import record_schemathesis, record_vcrpy


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("recordings")
    made = {
        "vcrpy of production": folder / "production.yaml",
        "vcrpy of contract": folder / "contract.yaml",
        "schemathesis HAR of contract": folder / "contract.har",
        "schemathesis VCR of production": folder / "production.vcr.yaml",
    }
    record_vcrpy(made["vcrpy of production"], fidelity="production")
    record_vcrpy(made["vcrpy of contract"], fidelity="contract")
    record_schemathesis(made["schemathesis HAR of contract"], report="har")
    record_schemathesis(made["schemathesis VCR of production"], report="vcr", fidelity="production")
    return made


@pytest.mark.parametrize(
    ("recording", "profile"),
    [
        ("vcrpy of production", "production"),
        ("vcrpy of contract", "contract"),
        ("schemathesis HAR of contract", "contract"),
        ("schemathesis VCR of production", "production"),
    ],
)
def test_a_recording_diffs_clean_against_the_profile_it_recorded_and_auto_finds_it(
    recordings: dict[str, Path], recording: str, profile: str
) -> None:
    cassette = read_cassette(recordings[recording])
    report = diff_cassette(cassette, profile, source=recording)
    assert report.compared == len(cassette.exchanges) and report.differences == []
    closest, _ = closest_profile(cassette, source=recording)
    assert closest.profile == profile


def test_a_recording_of_production_diffed_against_the_contract_lists_the_known_differences(
    recordings: dict[str, Path],
) -> None:
    report = diff_cassette(read_cassette(recordings["vcrpy of production"]), "contract", source="production.yaml")
    found = {(d.part, d.target, d.fake) for d in report.differences}
    # production answers seven keys (no app_id), refuses a bad batch in the job with pydantic's text, and refuses
    # a missing token with FastAPI's 403
    assert ("code", "200", "422") in found and ("code", "403", "401") in found
    assert ("error_data shape", "pydantic text naming batch", "list naming batch") in found
    assert {d.part for d in report.differences} == {"code", "keys", "status", "error", "error_data shape"}
    assert sum(d.part == "keys" for d in report.differences) == 8  # every JSON answer


def test_ignore_leaves_the_named_answer_fields_out_of_the_comparison(
    recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(recordings["vcrpy of production"])
    assert main(["diff", "--cassette", path, "--fidelity", "contract"]) == 1
    every = capsys.readouterr().out
    assert main(["diff", "--cassette", path, "--fidelity", "contract", "--ignore", "app_id,/error_data"]) == 1
    fewer = capsys.readouterr().out
    assert "15 differences" in every and "7 differences" in fewer
    assert "keys: target" in every and 'keys: target ["error"' not in fewer.replace("detail", "")
    assert "pydantic text" not in fewer and "code: target 200, fake 422" in fewer


def test_a_bad_ignore_is_a_usage_error_naming_it(
    recordings: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["diff", "--cassette", str(recordings["vcrpy of contract"]), "--ignore", "/a/~7"]) == 2
    assert capsys.readouterr().err == (
        "qolaba-mock: error: argument --ignore: '/a/~7' is not a JSON pointer: '~' must be followed by 0 or 1 "
        "(RFC 6901)\n"
    )


def test_a_live_diff_takes_the_same_ignore() -> None:
    from contracts.client.target import Target
    from contracts.traffic.live_diff import DiffPlan, diff_live
    from mockserver import Config, LiveServer
    from tests.contracts.client_session import SECRET

    with LiveServer(Config(fidelity="production", tokens=frozenset({SECRET}))) as production:
        target = Target(production.url, token=SECRET)
        every = diff_live(target, "contract", DiffPlan(mode="free", cases=0))
        fewer = diff_live(target, "contract", DiffPlan(mode="free", cases=0, ignore=("app_id", "/error_data")))
    assert any(d.part == "keys" for d in every.differences)
    # the keys rows left are FastAPI's {"detail": ...} against the envelope, not the envelope's missing app_id
    assert all("detail" in d.target for d in fewer.differences if d.part == "keys")
    assert len(fewer.differences) < len(every.differences)
    with pytest.raises(ValueError, match=r"DiffPlan\(ignore=...\): '/~' is not a JSON pointer"):
        DiffPlan(ignore=("/~",))
