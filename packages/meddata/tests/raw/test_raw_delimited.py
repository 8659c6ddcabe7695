"""CSV: a bad record is quarantined with its line and the rest read; --strict stops at it."""

from __future__ import annotations

from pathlib import Path

import pytest

from meddata.config import Columns
from meddata.errors import InputError
from meddata.raw.delimited import read_csv
from meddata.raw.result import RECORD

COLUMNS = Columns(question="input", answer="output")


def rows_csv(tmp_path: Path, lines: list[bytes]) -> Path:
    path = tmp_path / "qa.csv"
    path.write_bytes(b"\n".join([b"input,output", *lines]) + b"\n")
    return path


GOOD = [f"q{i},answer {i}".encode() for i in range(5)]


@pytest.mark.parametrize(
    ("bad", "reason", "detail"),
    [
        (
            b"q,a,extra",
            "malformed_record",
            "line 4 (record 2): 3 fields, expected 2: ['q', 'a', 'e",
        ),
        (
            b'"short row"',
            "malformed_record",
            "line 4 (record 2): 1 fields, expected 2: ['short row",
        ),
        (b"caf\xe9?,coffee", "invalid_utf8", "line 4 (record 2): not valid UTF-8 (byte 0xe9)"),
    ],
)
def test_bad_record_is_quarantined_with_its_line(
    tmp_path: Path, bad: bytes, reason: str, detail: str
) -> None:
    path = rows_csv(tmp_path, [*GOOD[:2], bad, *GOOD[2:]])

    table = read_csv(path, COLUMNS)

    assert table.rows["input"].to_list() == [f"q{i}" for i in range(5)]
    assert table.rows[RECORD].to_list() == [0, 1, 3, 4, 5]
    [rejected] = table.rejects.iter_rows(named=True)
    assert (rejected["source_id"], rejected["reason"]) == ("2", reason)
    assert rejected["detail"].startswith(detail)


def test_invalid_utf8_keeps_the_text_with_replacement_characters(tmp_path: Path) -> None:
    table = read_csv(rows_csv(tmp_path, [b"caf\xe9?,a \xff b", *GOOD]), COLUMNS)

    assert table.rejects.select("input", "output").row(0) == ("caf\ufffd?", "a \ufffd b")


def test_bad_bytes_in_a_column_not_used_are_harmless(tmp_path: Path) -> None:
    path = tmp_path / "qa.csv"
    path.write_bytes(b"input,output,note\nq,a long answer,caf\xe9\n")

    assert read_csv(path, COLUMNS).rows["output"].to_list() == ["a long answer"]


def test_line_numbers_count_quoted_line_breaks_and_blank_lines(tmp_path: Path) -> None:
    path = rows_csv(tmp_path, [b'q0,"two\nlines"', b"", b"q1,a,x"])

    [rejected] = read_csv(path, COLUMNS).rejects.iter_rows(named=True)

    assert rejected["detail"].startswith("line 5 (record 1): 3 fields")


def test_strict_stops_at_the_first_bad_record(tmp_path: Path) -> None:
    path = rows_csv(tmp_path, [*GOOD[:2], b"q,a,extra", b"caf\xe9,a"])

    with pytest.raises(InputError) as caught:
        read_csv(path, COLUMNS, strict=True)

    assert str(caught.value) == (
        f"{path}, line 4 (record 2): 3 fields, expected 2: ['q', 'a', 'extra']. Quote every "
        "field holding a comma, quote or line break (or drop --strict)"
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"question,reply\nq,a\n", r"missing column\(s\) input, output: found \[question, reply\]"),
        (b"inp\xfft,output\nq,a\n", r"not valid UTF-8 \(byte 0xff at offset 3, line 1\)"),
        (b"input,output\nq,a,b\nq2\n", r"no readable rows \(2 unreadable; the first at line 2"),
        (b"input,output\n\n", "has no rows"),
    ],
)
def test_file_broken_as_a_whole_is_an_error(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "qa.csv"
    path.write_bytes(content)

    with pytest.raises(InputError, match=problem):
        read_csv(path, COLUMNS)
