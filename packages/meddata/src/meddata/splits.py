"""Seeded, stable choices: which questions are held out, which rows a sample takes.

Hashes (sha256), not a random generator, so the same seed gives the same split on every
machine and every polars version, and a question lands in the same split in every variant.
"""

from __future__ import annotations

import hashlib

import polars as pl

from meddata.text import dedup_key


def _unit(seed: int, text: str) -> float:
    digest = hashlib.sha256(f"{seed}:{text}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def stable_unit(values: pl.Series, seed: int) -> pl.Series:
    """A number in [0, 1) per value, a pure function of (seed, value)."""
    uniques = values.unique()
    table = pl.DataFrame(
        {values.name: uniques, "unit": [_unit(seed, v) for v in uniques.to_list()]},
        schema={values.name: values.dtype, "unit": pl.Float64},
    )
    return values.to_frame().join(table, on=values.name, how="left", maintain_order="left")["unit"]


def assign_splits(rows: pl.DataFrame, seed: int, test_fraction: float) -> pl.DataFrame:
    """Add `split`: about `test_fraction` of distinct questions go to `test`, the rest to `train`.

    The split is decided per normalized question, so a question asked twice (with different
    answers) is never in both splits.
    """
    keys = rows.select(dedup_key(pl.col("input")).alias("question_key"))["question_key"]
    unit = stable_unit(keys, seed)
    return rows.with_columns(
        split=pl.when(unit < test_fraction).then(pl.lit("test")).otherwise(pl.lit("train"))
    )


def stable_sample(rows: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """The same `n` rows for the same seed and ids, whatever order the rows come in."""
    order = stable_unit(rows["id"], seed)
    return rows.with_columns(_rank=order).sort("_rank").head(n).drop("_rank").sort("id")
