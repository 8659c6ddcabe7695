"""`medtrain`: train recipes, list them, export runs (`medtrain --help`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medtrain.errors import UserError
from medtrain.publish import publish

app = typer.Typer(
    help="Fine-tune instruct LLMs on medical QA with LoRA/QLoRA recipes.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


@app.command()
def train(
    recipe: Annotated[
        str, typer.Argument(help="Recipe name (see `medtrain recipes`) or a YAML file.")
    ],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a recipe value, e.g. --set training.max_steps=20 (repeatable)."
        ),
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Continue the newest run of this recipe from its last checkpoint.")
    ] = False,
    dataset: Annotated[
        str | None, typer.Option(help="Dataset variant folder or Hub id (overrides data.dataset).")
    ] = None,
    run_dir: Annotated[
        Path | None, typer.Option(help="Write to (or, with --resume, continue) this run folder.")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Start a CUDA recipe even without a CUDA GPU.")
    ] = False,
) -> None:
    """Train RECIPE; the run folder (adapter, config, stats, loss.csv) is printed at the end."""
    from medtrain.recipes import load_recipe
    from medtrain.trainer import train as run_training

    overrides = list(set_ or [])
    if dataset:
        overrides.append(f"data.dataset={dataset}")
    config = load_recipe(recipe, overrides)
    run = run_training(config, run=run_dir, resume=resume, force=force)
    typer.echo(str(run))


@app.command()
def recipes() -> None:
    """List the shipped recipes with their base model and dataset."""
    from medtrain.recipes import load_recipe, recipe_names

    table = Table("recipe", "base model", "dataset", "description")
    for name in recipe_names():
        r = load_recipe(name)
        table.add_row(name, r.model.base, r.data.dataset, r.description)
    Console().print(table)


@app.command()
def export(
    run: Annotated[Path, typer.Argument(help="Run folder (artifacts/runs/<recipe>-<timestamp>).")],
    merged_16bit: Annotated[
        bool,
        typer.Option("--merged-16bit", help="Merge the adapter into a 16-bit copy of the base."),
    ] = False,
    gguf: Annotated[
        bool,
        typer.Option("--gguf", help="Convert the merged model to GGUF with llama.cpp's converter."),
    ] = False,
    llama_cpp: Annotated[
        Path | None,
        typer.Option(
            envvar="LLAMA_CPP_DIR", help="llama.cpp checkout holding convert_hf_to_gguf.py."
        ),
    ] = None,
) -> None:
    """Export a run: merged 16-bit weights (run/merged-16bit) and/or GGUF (run/gguf)."""
    from medtrain.export import export_gguf, export_merged

    if not (merged_16bit or gguf):
        raise UserError("choose what to export: --merged-16bit and/or --gguf")
    if gguf:
        export_gguf(run, llama_cpp)
    elif merged_16bit:
        export_merged(run)


app.command("publish")(publish)


def main() -> None:
    try:
        app()
    except UserError as err:
        console.print(f"[red]error:[/red] {err}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
