from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from meddata.errors import InputError
from meddata.raw import read_wikidoc, read_wikidoc_hub
from meddata.schema import RAW_SCHEMA

SOURCE = "medical_meadow_wikidoc"
RECORDS = [
    {
        "instruction": "Answer this question truthfully",
        "input": "What is A?",
        "output": "A is\n a.",
    },
    {"instruction": "Answer this question truthfully", "input": 'Is "B" real?', "output": ""},
    {"instruction": "Answer this question truthfully", "input": "C, or D?", "output": "Both  ."},
]
EXPECTED = pl.DataFrame(
    {
        "source": [SOURCE] * 3,
        "source_id": ["0", "1", "2"],
        "input": ["What is A?", 'Is "B" real?', "C, or D?"],
        "output": ["A is\n a.", "", "Both  ."],
        "collection": [None] * 3,
        "focus": [None] * 3,
        "qtype": [None] * 3,
        "url": [None] * 3,
    },
    schema=RAW_SCHEMA,
)


def write(path: Path) -> Path:
    """RECORDS in the format the file name says."""
    frame = pl.DataFrame(RECORDS)
    writers = {
        ".csv": lambda: frame.write_csv(path),
        ".json": lambda: path.write_text(json.dumps(RECORDS, indent=1)),
        ".jsonl": lambda: path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n\n"),
        ".parquet": lambda: frame.write_parquet(path),
    }
    writers[path.suffix]()
    return path


@pytest.mark.parametrize("name", ["rows.csv", "rows.json", "rows.jsonl", "rows.parquet"])
def test_every_format_gives_the_same_rows(tmp_path: Path, name: str) -> None:
    assert_frame_equal(read_wikidoc(write(tmp_path / name), SOURCE), EXPECTED)


def test_json_lines_in_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS))

    assert_frame_equal(read_wikidoc(path, SOURCE), EXPECTED)


def test_shipped_files(repo_raw: Path) -> None:
    folder = repo_raw / "medical_meadow_wikidoc"
    sample = read_wikidoc(folder / "medical_meadow_wikidoc_sample.csv", SOURCE)
    patient = read_wikidoc(
        folder / "medical_meadow_wikidoc_patient_information.json", f"{SOURCE}_patient_information"
    )

    assert sample.height == 1000
    assert patient.height == 5942
    assert patient["source_id"][-1] == "5941"
    assert set(patient["source"]) == {f"{SOURCE}_patient_information"}
    upstream = pl.read_csv(
        repo_raw.parent / "reference" / "upstream_short_sample.csv", infer_schema=False
    )[:1000]
    assert sample["input"].to_list() == upstream["input"].to_list()
    # The upstream copy ends its inner lines with \r\n where the shipped file has \n.
    assert sample["output"].to_list() == upstream["output"].str.replace_all("\r\n", "\n").to_list()


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (
            "rows.csv",
            b"question,answer\nq,a\n",
            r"found \[question, answer\], expected \[input, output\]",
        ),
        ("rows.csv", b"input,output\n", "has no rows"),
        (
            "rows.csv",
            b"input,output\nq,\xff\n",
            "not valid UTF-8 \\(byte 0xff at offset 15, line 2\\)",
        ),
        ("rows.csv", b"", "file is empty"),
        ("rows.json", b"  \n", "file is empty"),
        (
            "rows.json",
            b'[{"input": "q", "output": "a"},\n {"input": "q"',
            "not valid JSON .* line 2",
        ),
        ("rows.json", b'{"rows": 1}', r"found \[rows\], expected \[input, output\]"),
        ("rows.json", b'"text"', "holds a JSON str"),
        ("rows.json", b'[{"input": "q", "output": 3}]', "row 0: output is not text"),
        ("rows.json", b'[["q", "a"]]', "row 0: holds a JSON list"),
        (
            "rows.jsonl",
            b'{"input": "q", "output": "a"}\n\n{"input": "q"}\n',
            "line 3: missing column",
        ),
        ("rows.jsonl", b'{"input": "q", "output": "a"}\n{oops}\n', r"not valid JSON \(.* line 2"),
        ("rows.parquet", b"PAR1 not really", "not a valid parquet file"),
        ("rows.txt", b"input,output\nq,a\n", r"unsupported file type \.txt\. Use one of: \.csv"),
    ],
)
def test_bad_file_is_an_input_error_naming_it(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(InputError, match=problem) as caught:
        read_wikidoc(path, SOURCE)
    assert str(caught.value).startswith(str(path))


def test_parquet_with_a_non_text_column(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pl.DataFrame({"input": ["q"], "output": [1]}).write_parquet(path)

    with pytest.raises(InputError, match="column output holds Int64, expected text"):
        read_wikidoc(path, SOURCE)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read_wikidoc(tmp_path / "absent.csv", SOURCE)
    with pytest.raises(InputError, match="is a folder"):
        read_wikidoc(tmp_path, SOURCE)


def test_hub_dataset_becomes_raw_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def load_dataset(hub_id: str, split: str) -> datasets.Dataset:
        assert (hub_id, split) == ("medalpaca/medical_meadow_wikidoc", "train")
        return datasets.Dataset.from_list(RECORDS)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)

    rows = read_wikidoc_hub("medalpaca/medical_meadow_wikidoc", SOURCE)

    assert_frame_equal(rows, EXPECTED)


def test_hub_failure_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def offline(hub_id: str, split: str) -> None:
        raise ConnectionError(f"Couldn't reach '{hub_id}' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)

    with pytest.raises(InputError, match=r"^hub:medalpaca/x: could not load it .*Couldn't reach"):
        read_wikidoc_hub("medalpaca/x", SOURCE)
