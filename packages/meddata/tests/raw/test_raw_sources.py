"""Reading a configured source: default file (verified), override, Hub, and the column mapping."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from meddata.config import Columns, Source, load_config
from meddata.errors import InputError
from meddata.raw import RawRead, check_inputs, read_source
from meddata.raw.checksums import read_sums
from meddata.schema import QUARANTINE_SCHEMA, RAW_SCHEMA

CONFIG = load_config()
WIKIDOC = CONFIG.source("medical_meadow_wikidoc")
PATIENT = CONFIG.source("medical_meadow_wikidoc_patient_information")
MEDQUAD = CONFIG.source("medquad")
SAMPLE = str(WIKIDOC.path)


def test_configured_files_are_shipped_and_checksummed(repo_raw: Path) -> None:
    listed = read_sums(repo_raw / "SHA256SUMS")
    assert {source.path for source in CONFIG.sources} <= set(listed)


@pytest.mark.parametrize(("source", "rows"), [(WIKIDOC, 1000), (PATIENT, 5942)])
def test_default_wikidoc_sources(repo_raw: Path, source: Source, rows: int) -> None:
    read = read_source(source, repo_raw)

    assert isinstance(read, RawRead)
    assert read.rows.schema == RAW_SCHEMA
    assert read.rows.height == rows
    assert set(read.rows["source"]) == {source.name}
    assert read.rows["source_id"][-1] == str(rows - 1)
    assert read.path == str(repo_raw / str(source.path))
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


def test_override_is_read_by_its_suffix_without_verification(
    copied_raw: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mine.jsonl"
    mine.write_text('{"input": "q", "output": "a"}\n')
    (copied_raw / SAMPLE).write_bytes(b"tampered")

    read = read_source(WIKIDOC, copied_raw, mine)

    assert read.rows["input"].to_list() == ["q"]
    assert read.path == str(mine)


def test_override_medquad_with_a_folder(medquad_mini: Path, tmp_path: Path) -> None:
    read = read_source(MEDQUAD, tmp_path, medquad_mini)

    assert read.files == 4
    assert read.rows.height == 6
    row = read.rows.filter(source_id="0000001_1-1").row(0, named=True)
    assert (row["collection"], row["qtype"]) == ("CancerGov", "information")


def test_columns_id_and_metadata_are_mapped(tmp_path: Path) -> None:
    path = tmp_path / "qa.json"
    records = [{"Q": "q1", "A": "a1", "ID": 7, "Topic": "flu"}, {"Q": "q2", "A": "a2", "ID": None}]
    path.write_text(json.dumps(records))
    columns = Columns(question="Q", answer="A", id="ID", metadata={"focus": "Topic"})
    source = replace(WIKIDOC, name="mine", reader="json", path="qa.json", columns=columns)

    rows = read_source(source, tmp_path).rows

    assert rows.schema == RAW_SCHEMA
    assert rows.select("source", "source_id", "input", "output", "focus").rows() == [
        ("mine", "7", "q1", "a1", "flu"),
        ("mine", "1", "q2", "a2", None),
    ]
    assert rows["collection"].null_count() == 2


def test_hub_override_uses_the_configured_id(
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
    hub_only = replace(WIKIDOC, reader=None, path=None)
    assert read_source(hub_only, tmp_path).rows["output"].to_list() == ["a"]
    assert asked == ["medalpaca/medical_meadow_wikidoc", "someone/other", asked[0]]


def test_medquad_declares_no_hub_dataset(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="medquad=hub: the source declares no Hub dataset"):
        read_source(MEDQUAD, tmp_path, "hub")


def test_inputs_are_checked_before_anything_is_read(tmp_path: Path, repo_raw: Path) -> None:
    with pytest.raises(InputError, match=r"--input medqad=\.\.\.: no such source\. Did you mean"):
        check_inputs(CONFIG.sources, repo_raw, {"medqad": "x.csv"})
    with pytest.raises(InputError, match=r"file not found \(source medical_meadow_wikidoc\)") as e:
        check_inputs(CONFIG.sources, tmp_path, {})
    assert e.value.path == str(tmp_path / SAMPLE)
    check_inputs(CONFIG.sources, repo_raw, {"medquad": "hub:someone/medquad"})


def test_mapped_column_missing_from_the_input(tmp_path: Path, medquad_mini: Path) -> None:
    columns = replace(MEDQUAD.columns, metadata={"focus": "topic"})
    with pytest.raises(InputError, match=r"missing column\(s\) topic: found \[qid, question"):
        read_source(replace(MEDQUAD, columns=columns), tmp_path, medquad_mini)


def test_reader_rejects_become_quarantine_rows(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_text("input,output\nq1,a1\nq2,a2,extra\n")

    read = read_source(WIKIDOC, tmp_path, path)

    assert read.quarantine.schema == QUARANTINE_SCHEMA
    assert read.quarantine.select("source", "source_id", "reason").row(0) == (
        "medical_meadow_wikidoc",
        "1",
        "malformed_record",
    )


def test_override_of_unknown_kind_for_a_hub_only_source(tmp_path: Path) -> None:
    hub_only = replace(WIKIDOC, reader=None, path=None)
    notes = tmp_path / "notes.txt"
    notes.write_text("input,output\nq,a\n")

    with pytest.raises(InputError, match=r"notes\.txt: cannot tell how to read it\. Pass a \.csv"):
        read_source(hub_only, tmp_path, notes)
    assert read_source(WIKIDOC, tmp_path, notes).rows["input"].to_list() == ["q"]
