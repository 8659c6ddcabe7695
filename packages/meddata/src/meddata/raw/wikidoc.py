"""Medical Meadow WikiDoc: `input`/`output` pairs from CSV, JSON, JSONL, parquet or the Hub.

Rows keep their file order; `source_id` is the row number (from 0) and the MedQuAD-only
metadata columns are null. An `instruction` column, when present, is ignored: the variants set
their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

from meddata.errors import InputError
from meddata.raw.files import (
    brief,
    read_csv,
    read_utf8,
    require_columns,
    require_file,
    require_rows,
    unsupported,
)

COLUMNS = ("input", "output")


def read_wikidoc(path: Path | str, source_name: str) -> pl.DataFrame:
    """Read one WikiDoc file into RAW_SCHEMA rows whose `source` is `source_name`."""
    path = Path(path)
    require_file(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise unsupported(path, READERS)
    return _to_raw(reader(path), path, source_name)


def read_wikidoc_hub(hub_id: str, source_name: str, split: str = "train") -> pl.DataFrame:
    """Load a Hub dataset (where the network allows) into the same rows as a local file."""
    where = f"hub:{hub_id}"
    try:
        import datasets
    except ImportError as exc:
        raise InputError(
            where, "the datasets library is not installed", "Install meddata[hub] or pass a file"
        ) from exc
    try:
        dataset = datasets.load_dataset(hub_id, split=split)
    except Exception as exc:  # offline, unknown id, gated, bad split: all fixed by the user
        raise InputError(
            where,
            f"could not load it from the Hugging Face Hub ({brief(exc)})",
            "Check the dataset id and the network, or pass a local file instead",
        ) from exc
    return _to_raw(dataset.to_polars(), where, source_name)


def _to_raw(frame: pl.DataFrame, where: Path | str, source_name: str) -> pl.DataFrame:
    require_columns(where, frame.columns, COLUMNS)
    for column in COLUMNS:
        dtype = frame.schema[column]
        if dtype not in (pl.String, pl.Null):
            raise InputError(
                where, f"column {column} holds {dtype}, expected text", "Pass text question/answers"
            )
    require_rows(where, frame.height)
    return frame.select(
        source=pl.lit(source_name, pl.String),
        source_id=pl.int_range(pl.len()).cast(pl.String),
        input=pl.col("input").cast(pl.String).fill_null(""),
        output=pl.col("output").cast(pl.String).fill_null(""),
        collection=pl.lit(None, pl.String),
        focus=pl.lit(None, pl.String),
        qtype=pl.lit(None, pl.String),
        url=pl.lit(None, pl.String),
    )


def _read_json(path: Path) -> pl.DataFrame:
    """A JSON list of objects; a `.json` file holding one object per line is read as JSONL."""
    text = read_utf8(path)
    if text.lstrip().startswith("{"):
        return _read_jsonl(path)
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad_json(path, exc) from exc
    if not isinstance(items, list):
        raise InputError(
            path, f"holds a JSON {type(items).__name__}", "Pass a list of {input, output} objects"
        )
    return _records(path, items, [None] * len(items))


def _read_jsonl(path: Path) -> pl.DataFrame:
    items: list[object] = []
    lines: list[int | None] = []
    for number, line in enumerate(read_utf8(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise _bad_json(path, exc, number) from exc
        lines.append(number)
    return _records(path, items, lines)


def _records(path: Path, items: list[object], lines: list[int | None]) -> pl.DataFrame:
    """Check every record (naming its row, or its line for JSONL) and keep input/output."""
    columns: dict[str, list[str | None]] = {column: [] for column in COLUMNS}
    for row, (item, line) in enumerate(zip(items, lines, strict=True)):
        where, at_row = (path, row) if line is None else (f"{path}, line {line}", None)
        if not isinstance(item, dict):
            kind = type(item).__name__
            raise InputError(where, f"holds a JSON {kind}", "Each record must be an object", at_row)
        require_columns(where, item, COLUMNS, at_row)
        for column in COLUMNS:
            value = item[column]
            if value is not None and not isinstance(value, str):
                raise InputError(
                    where, f"{column} is not text: {value!r:.40}", "Store it as a string", at_row
                )
            columns[column].append(value)
    return pl.DataFrame(columns, schema=dict.fromkeys(COLUMNS, pl.String))


def _bad_json(path: Path, exc: json.JSONDecodeError, line: int | None = None) -> InputError:
    at = f"line {line if line is not None else exc.lineno}, column {exc.colno}"
    return InputError(path, f"not valid JSON ({exc.msg} at {at})", "Fix or re-export the file")


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        return pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(
            path, f"not a valid parquet file ({brief(exc)})", "Fix or re-export it"
        ) from exc


READERS: dict[str, Callable[[Path], pl.DataFrame]] = {
    ".csv": read_csv,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".parquet": _read_parquet,
}
"""The file formats, by extension."""
