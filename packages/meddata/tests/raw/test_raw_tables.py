"""Every table format read into the same rows; inputs unusable as a whole are one error each."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from meddata.config import load_config
from meddata.errors import InputError
from meddata.raw import read_source
from meddata.raw.tables import read_hub
from meddata.schema import RAW_SCHEMA

WIKIDOC = load_config().source("medical_meadow_wikidoc")
PATIENT = load_config().source("medical_meadow_wikidoc_patient_information")
SOURCE = WIKIDOC.name
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


def read(path: Path) -> pl.DataFrame:
    return read_source(WIKIDOC, path.parent, path).rows


@pytest.mark.parametrize("name", ["rows.csv", "rows.json", "rows.jsonl", "rows.parquet"])
def test_every_format_gives_the_same_rows(tmp_path: Path, name: str) -> None:
    assert_frame_equal(read(write(tmp_path / name)), EXPECTED)


def test_json_lines_in_a_json_file(tmp_path: Path) -> None:
    path = tmp_path / "rows.json"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS))

    assert_frame_equal(read(path), EXPECTED)


def test_csv_with_a_byte_order_mark_crlf_and_a_long_field(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    long = "x" * 200_000
    path.write_bytes(
        b'\xef\xbb\xbfinput,output\r\n"q, with comma","two\r\nlines"\r\nq2,' + long.encode()
    )

    rows = read(path)

    assert rows["input"].to_list() == ["q, with comma", "q2"]
    assert rows["output"].to_list() == ["two\r\nlines", long]


def test_shipped_files(repo_raw: Path) -> None:
    sample = read_source(WIKIDOC, repo_raw).rows
    patient = read_source(PATIENT, repo_raw).rows

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
            r"no readable rows \(1 unreadable; the first at line 2 \(record 0\): not valid UTF-8",
        ),
        ("rows.csv", b"inp\xfft,output\nq,a\n", "byte 0xff at offset 3, line 1"),
        ("rows.csv", b"", "file is empty"),
        ("rows.json", b"  \n", "file is empty"),
        (
            "rows.json",
            b'[{"input": "q", "output": "a"},\n {"input": "q"',
            "not valid JSON .* line 2",
        ),
        ("rows.json", b'{"rows": 1}', r"found \[rows\], expected \[input, output\]"),
        ("rows.json", b'"text"', "holds a JSON str"),
        ("rows.json", b'[{"input": "q", "output": 3}]', r"\(record 0\): output is not text: 3"),
        ("rows.json", b'[["q", "a"]]', r"holds no JSON objects \(the first is a list\)"),
        ("rows.json", b'[{"input": "q", "answer": "a"}]', r"missing column\(s\) output: found"),
        ("rows.jsonl", b"{oops}\n", r"no readable rows .* line 1 \(record 0\): not valid JSON"),
        ("rows.parquet", b"PAR1 not really", "not a valid parquet file"),
        ("rows.parquet", b"", "file is empty"),
    ],
)
def test_bad_file_is_an_input_error_naming_it(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(InputError, match=problem) as caught:
        read(path)
    assert str(caught.value).startswith(str(path))


def test_parquet_with_a_non_text_column(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    pl.DataFrame({"input": ["q"], "output": [1]}).write_parquet(path)

    with pytest.raises(InputError, match="column output holds Int64, expected text"):
        read(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        read(tmp_path / "absent.csv")
    with pytest.raises(InputError, match="is a folder"):
        read_source(WIKIDOC, tmp_path, tmp_path)


def test_hub_dataset_becomes_raw_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def load_dataset(hub_id: str, split: str) -> datasets.Dataset:
        assert (hub_id, split) == ("medalpaca/medical_meadow_wikidoc", "train")
        return datasets.Dataset.from_list(RECORDS)

    monkeypatch.setattr(datasets, "load_dataset", load_dataset)

    rows = read_source(WIKIDOC, Path("unused"), "hub").rows

    assert_frame_equal(rows, EXPECTED)


def test_hub_failure_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    def offline(hub_id: str, split: str) -> None:
        raise ConnectionError(f"Couldn't reach '{hub_id}' on the Hub (LocalEntryNotFoundError)")

    monkeypatch.setattr(datasets, "load_dataset", offline)

    with pytest.raises(InputError, match=r"^hub:medalpaca/x: could not load it .*Couldn't reach"):
        read_hub("medalpaca/x", WIKIDOC.columns)
