"""`meddata contamination`: check built training splits against the benchmarks, after the fact.

The build runs the same check (and removes what it finds unless told to keep it); this command
re-checks what is on disk, e.g. after a new benchmark folder was added to data/eval.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

from meddata.clean import CleanConfig
from meddata.contamination import check, report
from meddata.errors import InputError
from meddata.evalsets import load_benchmarks


def built_training_rows(out: Path) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """Every distinct row of the variants' train splits, and the variants holding each id."""
    shards = sorted(out.glob("*/data/train-*.parquet"))
    if not shards:
        raise InputError(out, "no built training splits", "Run `meddata build` first (or --out)")
    frames = [
        pl.read_parquet(p, columns=["id", "source", "input", "output"]).with_columns(
            variant=pl.lit(p.parent.parent.name)
        )
        for p in shards
    ]
    rows = pl.concat(frames)
    holders = rows.group_by("id", maintain_order=True).agg(pl.col("variant").unique().sort())
    variants = dict(zip(holders["id"].to_list(), holders["variant"].to_list(), strict=True))
    return rows.unique("id", keep="first", maintain_order=True).drop("variant"), variants


def contamination(
    eval_data: Annotated[
        Path, typer.Option(help="Folder with one sub-folder of .json/.jsonl items per benchmark.")
    ] = Path("data/eval"),
    out: Annotated[Path, typer.Option(help="Folder of the built variants.")] = Path(
        "data/processed"
    ),
    clean_dir: Annotated[Path, typer.Option(help="Where contamination.json is written.")] = Path(
        "data/clean"
    ),
    question_similarity: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Near-duplicate question threshold (5-character-shingle Jaccard).",
        ),
    ] = CleanConfig.question_similarity,
) -> None:
    """Check every built training split against every benchmark item (reports, removes nothing).

    13-gram overlap as lm-evaluation-harness defines decontamination, and near-duplicate
    questions. Writes contamination.json into --clean-dir: per benchmark, the items checked, the
    items hit and the training rows involved (with the variants that hold them). `meddata build`
    runs the same check and removes the rows it finds (`--keep-contaminated` keeps them).
    """
    benchmarks = load_benchmarks(eval_data)
    training, variants = built_training_rows(out)
    found = check(training, benchmarks, question_similarity)
    summary = report(
        found,
        f"train splits of the variants in {out}",
        training.height,
        "reported only (`meddata build` removes them)",
        question_similarity,
    )
    for hits in found:
        for hit in hits.rows:
            hit["variants"] = ", ".join(variants[hit["row"]])
    clean_dir.mkdir(parents=True, exist_ok=True)
    target = clean_dir / "contamination.json"
    target.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    table = Table(title=f"{training.height:,} training rows vs benchmarks (details in {target})")
    for column in ("benchmark", "items checked", "items hit", "training rows hit"):
        table.add_column(column, justify="left" if column == "benchmark" else "right")
    for hits in found:
        s = hits.summary()
        table.add_row(
            hits.benchmark.name,
            f"{s['items_checked']:,}",
            f"{s['items_hit']:,}",
            f"{s['training_rows_hit']:,}",
        )
    Console().print(table)
