"""A few quarantined rows per drop reason, for `meddata stats`: what each rule removed."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from rich.markup import escape
from rich.table import Table

from meddata.splits import stable_unit


def quarantine_samples(quarantine: Path, per_reason: int) -> pl.DataFrame:
    """Up to `per_reason` rows of each reason, chosen by a seeded hash of the row (the same rows
    on every call, spread over the sources rather than the first ones read)."""
    rows = pl.read_parquet(quarantine)
    if rows.is_empty() or per_reason <= 0:
        return rows.clear()
    label = pl.concat_str(["source", "source_id", "reason"], separator=":", ignore_nulls=True)
    rank = stable_unit(rows.select(label.alias("label"))["label"], seed=0)
    return (
        rows.with_columns(_rank=rank)
        .sort("reason", "_rank")
        .group_by("reason", maintain_order=True)
        .head(per_reason)
        .drop("_rank")
    )


def samples_table(quarantine: Path, per_reason: int) -> Table:
    """`quarantine_samples` as a table: reason, source, row, question, detail."""
    table = Table(title=f"{per_reason} quarantined rows per reason (all in {quarantine})")
    for column in ("reason", "source", "source_id", "question", "detail"):
        table.add_column(column, overflow="fold")
    for row in quarantine_samples(quarantine, per_reason).iter_rows(named=True):
        question = (row["input"] or "")[:80]
        cells = (row["reason"], row["source"], row["source_id"], question, row["detail"] or "")
        table.add_row(*(escape(str(cell)) for cell in cells))
    return table
