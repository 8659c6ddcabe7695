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
    from medtrain.plan import check_fits
    from medtrain.recipes import load_recipe
    from medtrain.trainer import train as run_training

    overrides = list(set_ or [])
    if dataset:
        overrides.append(f"data.dataset={dataset}")
    config = load_recipe(recipe, overrides)
    check_fits(config, force)
    run = run_training(config, run=run_dir, resume=resume, force=force)
    typer.echo(str(run))


@app.command()
def plan(
    recipe: Annotated[
        str, typer.Argument(help="Recipe name (see `medtrain recipes`) or a YAML file.")
    ],
    gpu: Annotated[
        str | None,
        typer.Option(
            help="Plan for: cpu, t4, l4, a10, a100-40, a100-80, h100, h200 (default: this machine)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a recipe value (repeatable), as for `train`."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Resolve RECIPE without loading weights: backend, precision, trainable parameters, rows,
    tokens and steps per epoch, and peak memory by term against the GPU's (exit 1 if it does
    not fit)."""
    import json

    from medtrain.plan import build_plan, device_named, this_device
    from medtrain.plan_render import to_json, to_text
    from medtrain.recipes import load_recipe

    device = device_named(gpu) if gpu else this_device()
    result = build_plan(load_recipe(recipe, list(set_ or [])), device)
    typer.echo(json.dumps(to_json(result)) if as_json else to_text(result))
    raise typer.Exit(0 if result.fits else 1)


@app.command()
def inspect(
    recipe: Annotated[
        str, typer.Argument(help="Recipe name (see `medtrain recipes`) or a YAML file.")
    ],
    n: Annotated[int, typer.Option("--n", help="Examples to show.")] = 2,
    split: Annotated[
        str | None, typer.Option(help="Split (default: the recipe's train split).")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override a recipe value (repeatable), as for `train`."),
    ] = None,
) -> None:
    """Show tokenized examples of RECIPE's dataset with the trained tokens marked (colour in a
    terminal, [[ ]] otherwise), the BOS/EOS/pad ids, and the share of tokens trained on."""
    from medtrain.inspect import inspect_recipe
    from medtrain.recipes import load_recipe

    config = load_recipe(recipe, list(set_ or []))
    out = Console(highlight=False, soft_wrap=True)
    for line in inspect_recipe(config, n, split or config.data.train_split, out.is_terminal):
        out.print(line)


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
