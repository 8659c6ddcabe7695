"""CSV files: every field as text, the line of every record known, one bad record quarantined alone.

Python's csv module, not polars' reader: it tells on which line each record starts, and a row
with the wrong number of fields is reported instead of filled with nulls (polars pads a short row
silently). It reads 100 MB (the WikiDoc sample 100 times) in 0.65 s against polars' 0.17 s; the
shipped CSV is 1 MB and takes 6 ms.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import polars as pl

from meddata.config import Columns
from meddata.errors import InputError
from meddata.raw.files import read_text, repaired, require_columns
from meddata.raw.result import RECORD, Rejects, Table

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a long answer is a field, not an error

FIELDS_FIX = "Quote every field holding a comma, quote or line break"
UTF8_FIX = "Re-save the file with UTF-8 encoding"


def read_csv(path: Path, columns: Columns, strict: bool = False) -> Table:
    """The `columns` of a CSV file with a header line; a record that cannot be read (wrong
    number of fields, bytes that are not UTF-8) is quarantined with its line."""
    text = read_text(path)
    rejects = Rejects(str(path), strict)
    reader = csv.reader(io.StringIO(text.text, newline=""))
    wanted = columns.wanted()
    values: list[list[str]] = [[] for _ in wanted]
    records: list[int] = []
    try:
        header = next(reader)
        if text.damage is not None and text.dirty(*header) is not None:
            raise text.damage
        require_columns(path, header, wanted)
        at = [header.index(column) for column in wanted]
        shown = (header.index(columns.question), header.index(columns.answer))
        line, record = reader.line_num + 1, 0
        for row in reader:
            start, line = line, reader.line_num + 1
            if not row:
                continue
            where = f"line {start} (record {record})"
            if len(row) != len(header):
                problem = f"{len(row)} fields, expected {len(header)}: {_show(row)}"
                rejects.add(str(record), where, "malformed_record", problem, FIELDS_FIX)
            elif (byte := text.dirty(*(row[i] for i in at))) is not None:
                problem = f"not valid UTF-8 (byte 0x{byte:02x})"
                kept = (repaired(row[shown[0]]), repaired(row[shown[1]]))
                rejects.add(str(record), where, "invalid_utf8", problem, UTF8_FIX, kept)
            else:
                for column, i in zip(values, at, strict=True):
                    column.append(row[i])
                records.append(record)
            record += 1
    except csv.Error as exc:
        problem = f"not a valid CSV file ({exc}, line {reader.line_num})"
        raise InputError(path, problem, "Fix or re-export it") from exc
    frame = pl.DataFrame(
        {**dict(zip(wanted, values, strict=True)), RECORD: records},
        schema={**dict.fromkeys(wanted, pl.String), RECORD: pl.Int64},
    )
    return rejects.table(frame)


def _show(row: list[str]) -> str:
    shown = repr([repaired(field) for field in row])
    return shown if len(shown) <= 100 else shown[:97] + "..."
