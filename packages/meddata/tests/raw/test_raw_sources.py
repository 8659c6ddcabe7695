from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from meddata.errors import InputError
from meddata.raw import SOURCES, RawRead, read_source
from meddata.raw.checksums import read_sums

WIKIDOC = "medical_meadow_wikidoc"
SAMPLE = SOURCES[WIKIDOC].path


def test_registry_defaults_are_shipped_and_checksummed(repo_raw: Path) -> None:
    listed = read_sums(repo_raw / "SHA256SUMS")

    assert {source.path for source in SOURCES.values()} <= set(listed)
    assert {name: s.corpus for name, s in SOURCES.items()} == {
        WIKIDOC: WIKIDOC,
        f"{WIKIDOC}_patient_information": WIKIDOC,
        "medquad": "medquad",
    }
    assert SOURCES["medquad"].license == "cc-by-4.0"
    assert SOURCES["medquad"].hub_id is None


@pytest.mark.parametrize(
    ("name", "rows"), [(WIKIDOC, 1000), (f"{WIKIDOC}_patient_information", 5942)]
)
def test_default_wikidoc_sources(repo_raw: Path, name: str, rows: int) -> None:
    read = read_source(name, repo_raw)

    assert isinstance(read, RawRead)
    assert read.rows.height == rows
    assert set(read.rows["source"]) == {name}
    assert read.path == str(repo_raw / SOURCES[name].path)
    assert read.quarantine.height == 0


@pytest.fixture
def copied_raw(repo_raw: Path, tmp_path: Path) -> Path:
    """A raw folder holding the WikiDoc sample and the shipped SHA256SUMS."""
    (tmp_path / SAMPLE).parent.mkdir(parents=True)
    shutil.copy(repo_raw / SAMPLE, tmp_path / SAMPLE)
    shutil.copy(repo_raw / "SHA256SUMS", tmp_path / "SHA256SUMS")
    return tmp_path


def test_modified_default_file_stops_unless_not_verified(copied_raw: Path) -> None:
    path = copied_raw / SAMPLE
    path.write_bytes(path.read_bytes()[:-100])

    with pytest.raises(InputError, match="checksum mismatch") as caught:
        read_source(WIKIDOC, copied_raw)
    assert caught.value.path == str(path)
    assert read_source(WIKIDOC, copied_raw, verify=False).rows.height > 0


def test_override_path_is_read_without_verification(copied_raw: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.jsonl"
    mine.write_text('{"input": "q", "output": "a"}\n')
    (copied_raw / SAMPLE).write_bytes(b"tampered")

    read = read_source(WIKIDOC, copied_raw, mine)

    assert read.rows["input"].to_list() == ["q"]
    assert read.path == str(mine)


def test_override_medquad_with_a_folder(medquad_mini: Path, tmp_path: Path) -> None:
    read = read_source("medquad", tmp_path, medquad_mini)

    assert read.files == 4
    assert read.rows.height == 6


def test_hub_override_uses_the_registered_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import datasets

    asked: list[str] = []

    def load_dataset(hub_id: str, split: str) -> datasets.Dataset:
        asked.append(hub_id)
        return datasets.Dataset.from_list([{"input": "q", "output": "a"}])

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)

    assert read_source(WIKIDOC, tmp_path, "hub").path == "hub:medalpaca/medical_meadow_wikidoc"
    assert read_source(WIKIDOC, tmp_path, "hub:someone/other").rows.height == 1
    assert asked == ["medalpaca/medical_meadow_wikidoc", "someone/other"]


def test_unknown_source_and_medquad_from_the_hub(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown source\. Use one of: medical_meadow_wikidoc"):
        read_source("pubmed", tmp_path)
    with pytest.raises(InputError, match="no Hub dataset is registered for medquad"):
        read_source("medquad", tmp_path, "hub")


def test_missing_default_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found") as caught:
        read_source(WIKIDOC, tmp_path)
    assert caught.value.path == str(tmp_path / SAMPLE)
