"""Column schemas shared by the pipeline stages (documented in docs/schemas.md)."""

from __future__ import annotations

import polars as pl

RAW_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "source": pl.String,
    "source_id": pl.String,
    "input": pl.String,
    "output": pl.String,
    "collection": pl.String,
    "focus": pl.String,
    "qtype": pl.String,
    "url": pl.String,
}
"""What every raw reader returns: one row per question/answer pair, before any cleaning."""

QUARANTINE_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "source": pl.String,
    "source_id": pl.String,
    "input": pl.String,
    "output": pl.String,
    "reason": pl.String,
    "detail": pl.String,
}
"""Every dropped row, with why: nothing leaves the pipeline unaccounted for."""


def empty_quarantine() -> pl.DataFrame:
    return pl.DataFrame(schema=QUARANTINE_SCHEMA)
