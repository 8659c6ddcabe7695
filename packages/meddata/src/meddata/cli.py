"""`meddata`: build, inspect and publish the medical instruction datasets."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from meddata.build import BuildConfig, build, stage_count
from meddata.clean import CleanConfig
from meddata.errors import InputError
from meddata.publish import publish
from meddata.raw import SOURCES
from meddata.variants import VARIANTS, select

app = typer.Typer(
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


def fail(message: str) -> typer.Exit:
    """One line on stderr and exit code 2: the user can fix this, no traceback needed."""
    console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@app.command("build")
def build_command(
    variants: Annotated[
        list[str] | None,
        typer.Option(
            "--variants", "-v", help="Variants to build (repeat the option); default: all."
        ),
    ] = None,
    raw: Annotated[Path, typer.Option(help="Folder with the raw sources.")] = Path("data/raw"),
    out: Annotated[Path, typer.Option(help="Where variant folders are written.")] = Path(
        "data/processed"
    ),
    clean_dir: Annotated[
        Path, typer.Option(help="Where clean rows, quarantine and stats are written.")
    ] = Path("data/clean"),
    medquad: Annotated[
        str | None,
        typer.Option(help="MedQuAD archive (.tar.xz), unpacked folder, or Kaggle medquad.csv."),
    ] = None,
    wikidoc: Annotated[
        str | None,
        typer.Option(help="WikiDoc file (csv/json/jsonl/parquet with input,output) or 'hub[:ID]'."),
    ] = None,
    wikidoc_patient: Annotated[
        str | None,
        typer.Option(help="WikiDoc Patient Information file, or 'hub[:ID]'."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the short sample.")] = 42,
    test_fraction: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Share of distinct questions held out.")
    ] = 0.1,
    min_answer_chars: Annotated[int, typer.Option(help="Drop shorter answers.")] = 10,
    max_answer_chars: Annotated[int | None, typer.Option(help="Drop longer answers.")] = None,
    max_question_chars: Annotated[int | None, typer.Option(help="Drop longer questions.")] = None,
    verify: Annotated[
        bool, typer.Option(help="Check embedded raw files against data/raw/SHA256SUMS.")
    ] = True,
) -> None:
    """Build dataset variants from the raw sources (offline, from data/raw by default).

    Writes data/processed/<variant>/ (Hub dataset layout: parquet + card) and data/clean/
    (clean rows, quarantine of every dropped row with its reason, stats). Output is replaced only
    when the build completes.
    """
    try:
        chosen = select(variants)
    except ValueError as exc:
        raise fail(str(exc)) from None
    inputs = {
        name: value
        for name, value in (
            ("medquad", medquad),
            ("medical_meadow_wikidoc", wikidoc),
            ("medical_meadow_wikidoc_patient_information", wikidoc_patient),
        )
        if value is not None
    }
    config = BuildConfig(
        raw_dir=raw,
        out_dir=out,
        clean_dir=clean_dir,
        inputs=inputs,
        verify=verify,
        seed=seed,
        test_fraction=test_fraction,
        cleaning=CleanConfig(min_answer_chars, max_question_chars, max_answer_chars),
    )
    start = time.perf_counter()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description:<60}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("starting", total=stage_count(chosen))

        def step(description: str) -> None:
            done = progress.tasks[0].description != "starting"
            progress.update(task, description=description, advance=1 if done else 0)

        results = build(chosen, config, step)
    elapsed = time.perf_counter() - start
    table = Table(title=f"built {len(results)} variants into {out}/ in {elapsed:.1f} s")
    for column in ("variant", "family", "train", "test"):
        table.add_column(column, justify="right" if column in ("train", "test") else "left")
    for r in results:
        table.add_row(
            r.variant.name, r.variant.family, f"{r.rows['train']:,}", f"{r.rows['test']:,}"
        )
    Console().print(table)
    _print_cleaning(clean_dir)


def _print_cleaning(clean_dir: Path) -> None:
    stats_file = clean_dir / "stats.json"
    if not stats_file.exists():
        raise fail(f"{stats_file}: no build statistics. Run `meddata build` first")
    stats = json.loads(stats_file.read_text())["sources"]
    table = Table(title=f"cleaning ({stats_file}; dropped rows in quarantine.parquet)")
    for column in ("source", "rows in", "dropped", "rows out"):
        table.add_column(column, justify="left" if column in ("source", "dropped") else "right")
    for name, s in stats.items():
        dropped = ", ".join(f"{k} {v:,}" for k, v in s["dropped"].items()) or "-"
        table.add_row(name, f"{s['rows_in']:,}", dropped, f"{s['rows_out']:,}")
    Console().print(table)


@app.command("stats")
def stats_command(
    out: Annotated[Path, typer.Option(help="Folder of the built variants.")] = Path(
        "data/processed"
    ),
    clean_dir: Annotated[Path, typer.Option(help="Folder of the clean stats.")] = Path(
        "data/clean"
    ),
) -> None:
    """Show the cleaning statistics and the rows per split of every built variant."""
    _print_cleaning(clean_dir)
    table = Table(title=f"variants in {out}")
    for column in ("variant", "family", "set", "train", "test"):
        table.add_column(column, justify="right" if column in ("train", "test") else "left")
    for info_file in sorted(out.glob("*/build_info.json")):
        info = json.loads(info_file.read_text())
        rows = info["rows"]
        table.add_row(
            info["variant"], info["family"], info["set"], f"{rows['train']:,}", f"{rows['test']:,}"
        )
    Console().print(table)


@app.command("variants")
def variants_command() -> None:
    """List the variant names with their family and the sources they hold."""
    table = Table()
    for column in ("variant", "family", "set", "sources"):
        table.add_column(column)
    for v in VARIANTS.values():
        table.add_row(v.name, v.family, v.set.key, ", ".join(v.sources))
    Console().print(table)


@app.command("sources")
def sources_command() -> None:
    """List the raw sources with their default file, license and Hub id."""
    table = Table()
    for column in ("source", "default file (in --raw)", "license", "hub id"):
        table.add_column(column)
    for s in SOURCES.values():
        table.add_row(s.name, s.path, s.license, s.hub_id or "-")
    Console().print(table)


app.command("publish")(publish)


def main() -> None:
    """Entry point: user-fixable errors become one line and exit code 2."""
    try:
        app()
    except InputError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
