"""VCR cassettes as VCR.py (pytest-recording) and schemathesis write them read as the exchanges they recorded."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import vcr
import yaml

from contracts.cassette.jsonl import CassetteError
from contracts.cassette.reading import read_cassette
from tests.contracts.cassette.real_recordings import record_schemathesis, record_vcrpy


@pytest.fixture(scope="module")
def vcrpy_recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[httpx.Response]]:
    path = tmp_path_factory.mktemp("vcr") / "test_generate.yaml"
    return path, record_vcrpy(path, fidelity="production")


def test_a_vcrpy_cassette_reads_as_the_calls_the_client_made(
    vcrpy_recording: tuple[Path, list[httpx.Response]],
) -> None:
    path, answers = vcrpy_recording
    cassette = read_cassette(path)

    assert [e.status for e in cassette.exchanges] == [a.status_code for a in answers]
    assert [e.path for e in cassette.exchanges][:3] == ["/getImagetoImage", "/getImagetoImage", "/getImage"]
    assert cassette.upstream.startswith("http://127.0.0.1:")
    assert [e.response.json for e in cassette.exchanges[:-1]] == [a.json() for a in answers[:-1]]


def test_polls_are_linked_to_their_submit_by_task_id_and_timed_by_order(
    vcrpy_recording: tuple[Path, list[httpx.Response]],
) -> None:
    cassette = read_cassette(vcrpy_recording[0])
    polls = [(e.seq, e.task) for e in cassette.exchanges if e.task is not None]
    assert polls == [
        (3, {"submit": 2, "offset": 1.0}),
        (4, {"submit": 2, "offset": 2.0}),
        (6, {"submit": 5, "offset": 1.0}),
    ]
    assert [e.at for e in cassette.exchanges] == [float(n) for n in range(len(cassette.exchanges))]
    assert cassette.notes == (f"{vcrpy_recording[0]}: VCR.py keeps no timestamps: its exchanges are taken in order, "
                              "one second apart",)  # fmt: skip


def test_an_image_answer_keeps_its_media_type_and_size(vcrpy_recording: tuple[Path, list[httpx.Response]]) -> None:
    path, answers = vcrpy_recording
    image = read_cassette(path).exchanges[-1]
    assert image.method == "GET" and image.path.startswith("/outputs/")
    assert image.auth is None and image.response.image is not None
    assert image.response.image["bytes"] == len(answers[-1].content)
    assert (image.response.image["width"], image.response.image["height"]) == (1024, 1024)


def test_the_token_becomes_a_name_and_steering_headers_stay(
    vcrpy_recording: tuple[Path, list[httpx.Response]],
) -> None:
    cassette = read_cassette(vcrpy_recording[0])
    assert {(e.auth, e.token) for e in cassette.exchanges} == {("bearer", "t1"), (None, None)}
    assert cassette.held_credentials
    steered = [e.request.steering for e in cassette.exchanges if e.request.steering]
    assert {"x-mock-fault": "no_face"} in steered and {"x-mock-latency": "none"} in steered


def test_a_schemathesis_vcr_cassette_reads_with_its_timestamps(tmp_path: Path) -> None:
    path = tmp_path / "st.yaml"
    record_schemathesis(path, report="vcr")
    cassette = read_cassette(path)
    assert len(cassette.exchanges) >= 6 and cassette.notes == ()
    assert {e.path for e in cassette.exchanges} == {"/getImagetoImage", "/getImage"}
    ats = [e.at for e in cassette.exchanges]
    assert ats[0] == 0 and ats == sorted(ats) and ats[-1] > 0


def _vcrpy_version(path: Path, version: object) -> Path:
    document = yaml.safe_load(path.read_text())
    document["version"] = version
    changed = path.with_name(f"v{version}.yaml")
    changed.write_text(yaml.safe_dump(document))
    return changed


@pytest.mark.parametrize("version", [2, 0, None])
def test_a_vcrpy_cassette_of_another_format_version_is_one_line(
    vcrpy_recording: tuple[Path, list[httpx.Response]], version: object
) -> None:
    path = _vcrpy_version(vcrpy_recording[0], version)
    with pytest.raises(CassetteError) as raised:
        read_cassette(path)
    assert str(raised.value) == (
        f"{path}: a VCR.py cassette of format version {version!r}; qolaba-mock reads version 1, which every "
        "VCR.py since 1.0 writes"
    )


def test_a_vcrpy_cassette_written_as_json_reads_the_same(
    vcrpy_recording: tuple[Path, list[httpx.Response]], tmp_path: Path
) -> None:
    as_json = tmp_path / "test_generate.json"
    record_vcrpy(as_json, fidelity="production", serializer="json")
    assert as_json.read_bytes().startswith(b"{")
    exchanges = read_cassette(as_json).exchanges
    from_yaml = read_cassette(vcrpy_recording[0]).exchanges[:-1]  # the YAML one ends with the image
    assert [(e.path, e.status, e.task) for e in exchanges] == [(e.path, e.status, e.task) for e in from_yaml]


def test_a_cassette_recorded_with_the_token_filtered_still_says_a_token_was_sent(tmp_path: Path) -> None:
    """pytest-recording's `vcr_config` with VCR.py's `filter_headers`, as the README suggests."""
    from mockserver import Config, LiveServer
    from tests.conftest import valid_body

    path = tmp_path / "filtered.yaml"
    filtered = vcr.VCR(filter_headers=[("authorization", "Bearer [redacted]")])
    with LiveServer(Config(latency="none")) as fake, filtered.use_cassette(str(path), record_mode="all"):
        httpx.post(fake.url + "/getImagetoImage", json=valid_body(), headers={"Authorization": "Bearer sk-x"})
    assert "sk-x" not in path.read_text()
    cassette = read_cassette(path)
    assert [(e.auth, e.token) for e in cassette.exchanges] == [("bearer", "t1")]
    assert not cassette.held_credentials
