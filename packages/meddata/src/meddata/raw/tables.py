"""Typed tables: parquet files and Hugging Face Hub datasets.

Their columns have one type each, so there is no bad row to quarantine: a question or answer
column that is not text, or an id column that is neither text nor integers, stops the read.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from meddata.config import Columns
from meddata.errors import InputError
from meddata.raw.files import brief, require_columns, require_file
from meddata.raw.result import RECORD, Rejects, Table


def read_parquet(path: Path, columns: Columns, strict: bool = False) -> Table:
    """The `columns` of a parquet file (only those are read)."""
    require_file(path)
    try:
        schema = pl.read_parquet_schema(path)
        require_columns(path, schema, columns.wanted())
        frame = pl.read_parquet(path, columns=list(columns.wanted()))
    except (pl.exceptions.PolarsError, OSError) as exc:
        problem = f"not a valid parquet file ({brief(exc)})"
        raise InputError(path, problem, "Fix or re-export it") from exc
    return _as_text(frame, str(path), columns, strict)


def read_hub(hub_id: str, columns: Columns, split: str = "train") -> Table:
    """A Hub dataset's split (where the network allows), read into the same table as a file."""
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
    frame = dataset.to_polars()
    require_columns(where, frame.columns, columns.wanted())
    return _as_text(frame.select(columns.wanted()), where, columns, strict=False)


def _as_text(frame: pl.DataFrame, where: str, columns: Columns, strict: bool) -> Table:
    texts = (columns.question, columns.answer)
    for column in columns.wanted():
        dtype = frame.schema[column]
        if dtype in (pl.String, pl.Null) or (column not in texts and dtype.is_integer()):
            continue
        expected = "text" if column in texts else "text or integers"
        problem = f"column {column} holds {dtype}, expected {expected}"
        raise InputError(where, problem, f"Store {column} as {expected}")
    text = frame.select(pl.all().cast(pl.String)).with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias(RECORD)
    )
    return Rejects(where, strict).table(text)
