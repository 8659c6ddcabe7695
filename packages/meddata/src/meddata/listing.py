"""What the CLI shows as tables: a config's sources and variants, a build's accounting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
from rich.table import Table

from meddata.config import DataConfig
from meddata.errors import InputError
from meddata.raw import READ_REASONS
from meddata.variants import Variant

SHOWN_UNREADABLE = 20
"""Unreadable rows listed by `meddata stats` (all are in quarantine.parquet)."""


def sources_table(config: DataConfig) -> Table:
    table = Table(title=f"system message: {config.instruction}", title_justify="left")
    for column in ("source", "reader", "path (in --raw) / hub", "columns", "license", "url"):
        table.add_column(column)
    for s in config.sources:
        where = "\n".join(x for x in (s.path, s.hub and f"hub:{s.hub}") if x)
        c = s.columns
        mapped = [f"question: {c.question}", f"answer: {c.answer}"]
        mapped += [f"id: {c.id}"] if c.id else []
        mapped += [f"{name}: {column}" for name, column in c.metadata.items()]
        table.add_row(s.name, s.reader or "hub", where, "\n".join(mapped), s.license, s.url)
    return table


def variants_table(variants: dict[str, Variant]) -> Table:
    table = Table()
    for column in ("variant", "family", "set", "sources (one shard per line)", "rows"):
        table.add_column(column)
    for v in variants.values():
        shards = "\n".join(", ".join(s.name for s in corpus) for corpus in v.corpora)
        rows = f"{v.set.sample:,} per shard" if v.set.sample else "all"
        table.add_row(v.name, v.family, v.set.key, shards, rows)
    return table


def read_stats(clean_dir: Path) -> dict[str, dict[str, Any]]:
    stats_file = clean_dir / "stats.json"
    if not stats_file.exists():
        raise InputError(stats_file, "no build statistics", "Run `meddata build` first")
    sources: dict[str, dict[str, Any]] = json.loads(stats_file.read_text())["sources"]
    return sources


def cleaning_table(clean_dir: Path) -> Table:
    table = Table(title=f"cleaning ({clean_dir}/stats.json; dropped rows in quarantine.parquet)")
    for column in ("source", "rows in", "dropped", "rows out"):
        table.add_column(column, justify="left" if column in ("source", "dropped") else "right")
    for name, s in read_stats(clean_dir).items():
        shown = ", ".join(f"{k} {v:,}" for k, v in s["dropped"].items()) or "-"
        table.add_row(name, f"{s['rows_in']:,}", shown, f"{s['rows_out']:,}")
    return table


def unreadable(clean_dir: Path) -> pl.DataFrame:
    """The quarantined rows the readers could not read (source, source_id, reason, detail)."""
    path = clean_dir / "quarantine.parquet"
    if not path.exists():
        return pl.DataFrame()
    return (
        pl.scan_parquet(path)
        .filter(pl.col("reason").is_in(READ_REASONS))
        .select("source", "source_id", "reason", "detail")
        .collect()
    )


def unreadable_table(rows: pl.DataFrame) -> Table:
    more = rows.height - SHOWN_UNREADABLE
    title = f"rows the readers could not read ({rows.height:,}" + (
        f"; the first {SHOWN_UNREADABLE} shown)" if more > 0 else ")"
    )
    table = Table(title=title)
    for column in ("source", "source_id", "reason", "detail"):
        table.add_column(column)
    for row in rows.head(SHOWN_UNREADABLE).iter_rows():
        table.add_row(*(str(value) for value in row))
    return table


def variant_rows_table(out: Path) -> Table:
    table = Table(title=f"variants in {out}")
    for column in ("variant", "family", "set", "train", "test"):
        table.add_column(column, justify="right" if column in ("train", "test") else "left")
    for info_file in sorted(out.glob("*/build_info.json")):
        info = json.loads(info_file.read_text())
        rows = info["rows"]
        table.add_row(
            info["variant"], info["family"], info["set"], f"{rows['train']:,}", f"{rows['test']:,}"
        )
    return table
