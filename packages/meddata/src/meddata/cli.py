"""`meddata`: build, inspect and publish the medical instruction datasets."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
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
from meddata.clean import QUALITY_RULES, CleanConfig
from meddata.config import load_config, reference
from meddata.contamination_cli import contamination
from meddata.errors import InputError
from meddata.listing import (
    cleaning_table,
    sources_table,
    unreadable,
    unreadable_table,
    variant_rows_table,
    variants_table,
)
from meddata.publish import publish
from meddata.samples import samples_table
from meddata.variants import expand, select

app = typer.Typer(
    help=__doc__,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
)
console = Console(stderr=True)

ConfigFile = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Build config (YAML) declaring the sources, chat families and variants; "
        "default: the shipped one (meddata/default.yaml).",
    ),
]


def fail(message: str) -> typer.Exit:
    """One line on stderr and exit code 2: the user can fix this, no traceback needed."""
    console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def parse_inputs(items: list[str] | None) -> dict[str, str]:
    """`SOURCE=FILE` options as {source: file}."""
    inputs = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not (sep and name and value):
            raise fail(f"--input {item!r}: expected SOURCE=FILE, SOURCE=hub or SOURCE=hub:ID")
        inputs[name] = value
    return inputs


@app.command("build")
def build_command(
    config_file: ConfigFile = None,
    variants: Annotated[
        list[str] | None,
        typer.Option(
            "--variants", "-v", help="Variants to build (repeat the option); default: all."
        ),
    ] = None,
    raw: Annotated[Path, typer.Option(help="Folder the sources' paths are relative to.")] = Path(
        "data/raw"
    ),
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="SOURCE=FILE: read a source from FILE (a .csv/.json/.jsonl/.parquet by its "
            "suffix; for MedQuAD an archive, folder or Kaggle medquad.csv), SOURCE=hub (its Hub "
            "dataset) or SOURCE=hub:ID. Repeat the option.",
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where variant folders are written.")] = Path(
        "data/processed"
    ),
    clean_dir: Annotated[
        Path, typer.Option(help="Where clean rows, quarantine and stats are written.")
    ] = Path("data/clean"),
    strict: Annotated[
        bool,
        typer.Option(
            help="Stop at the first row a reader cannot read (naming file, line and fix) "
            "instead of quarantining it."
        ),
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the split and of the samples.")] = 42,
    test_fraction: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Share of distinct questions held out.")
    ] = 0.1,
    min_answer_chars: Annotated[int, typer.Option(help="Drop shorter answers.")] = 10,
    max_answer_chars: Annotated[int | None, typer.Option(help="Drop longer answers.")] = None,
    max_question_chars: Annotated[int | None, typer.Option(help="Drop longer questions.")] = None,
    verify: Annotated[
        bool, typer.Option(help="Check configured files against SHA256SUMS in --raw.")
    ] = True,
    skip_rule: Annotated[
        list[str] | None,
        typer.Option(help=f"Content rule not to apply: {', '.join(QUALITY_RULES)}; repeatable."),
    ] = None,
    eval_data: Annotated[
        Path | None,
        typer.Option(
            help="Benchmarks the training split is checked against (default: data/eval, "
            "skipped with a warning when there is none)."
        ),
    ] = None,
    check_contamination: Annotated[
        bool, typer.Option(help="Check the training split against the benchmarks.")
    ] = True,
    keep_contaminated: Annotated[
        bool, typer.Option(help="Keep training rows that overlap a benchmark (still reported).")
    ] = False,
) -> None:
    """Build dataset variants from the sources a config declares (offline, from data/raw by
    default).

    Writes data/processed/VARIANT/ (Hub dataset layout: parquet + card) and data/clean/ (clean
    rows, quarantine of every dropped row with its reason, stats). A row a reader cannot read (a
    ragged CSV row, a JSON record without a key, bytes that are not UTF-8) is quarantined with its
    line; a file unusable as a whole stops the build. Output is replaced only when the build
    completes.
    """
    data = load_config(config_file)
    try:
        chosen = select(expand(data), variants)
        rules = tuple(skip_rule or ())
        cleaning = CleanConfig(min_answer_chars, max_question_chars, max_answer_chars, rules)
    except ValueError as exc:
        raise fail(str(exc)) from None
    config = BuildConfig(
        data=data,
        raw_dir=raw,
        out_dir=out,
        clean_dir=clean_dir,
        inputs=parse_inputs(inputs),
        verify=verify,
        strict=strict,
        seed=seed,
        test_fraction=test_fraction,
        cleaning=cleaning,
        eval_dir=_eval_dir(eval_data) if check_contamination else None,
        keep_contaminated=keep_contaminated,
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
        task = progress.add_task("starting", total=stage_count(chosen, config))

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
    Console().print(cleaning_table(clean_dir))
    if check_contamination and config.eval_dir is None:
        console.print(
            "[yellow]warning:[/yellow] no data/eval here: the training split was not checked for "
            "benchmark contamination (pass --eval-data DIR to check it)",
            highlight=False,
            soft_wrap=True,
        )
    bad = unreadable(clean_dir)
    if bad.height:
        console.print(
            f"[yellow]warning:[/yellow] {bad.height:,} row(s) could not be read and are in "
            f"{clean_dir}/quarantine.parquet with their line: `meddata stats` lists them "
            "(--strict stops at the first instead)",
            highlight=False,
        )


def _eval_dir(given: Path | None) -> Path | None:
    """The benchmarks to check against: the given folder, else data/eval if there is one."""
    default = Path("data/eval")
    return given if given is not None else (default if default.is_dir() else None)


@app.command("stats")
def stats_command(
    out: Annotated[Path, typer.Option(help="Folder of the built variants.")] = Path(
        "data/processed"
    ),
    clean_dir: Annotated[Path, typer.Option(help="Folder of the clean stats.")] = Path(
        "data/clean"
    ),
    samples: Annotated[int, typer.Option(help="Quarantined rows shown per drop reason.")] = 3,
) -> None:
    """Show the cleaning statistics, the rows no reader could read, sample quarantined rows of
    each drop reason, and the rows per split of every built variant."""
    Console().print(cleaning_table(clean_dir))
    bad = unreadable(clean_dir)
    if bad.height:
        Console().print(unreadable_table(bad))
    if samples > 0:
        Console().print(samples_table(clean_dir / "quarantine.parquet", samples))
    Console().print(variant_rows_table(out))


@app.command(
    "variants",
    help="List the variants a config declares: family, set, sources (one shard per corpus) and "
    "sample size.\n\nA config's `families` and `variants` sections:\n\n"
    + reference("families", "variants"),
)
def variants_command(config_file: ConfigFile = None) -> None:
    Console().print(variants_table(expand(load_config(config_file))))


@app.command(
    "sources",
    help="List the sources a config declares: reader, where they are read from, which columns "
    "are used, license and url.\n\nA config's keys:\n\n" + reference("top", "sources"),
)
def sources_command(config_file: ConfigFile = None) -> None:
    Console().print(sources_table(load_config(config_file)))


app.command("publish")(publish)
app.command("contamination")(contamination)


def main() -> None:
    """Entry point: user-fixable errors become one line and exit code 2."""
    try:
        app()
    except InputError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(2)
