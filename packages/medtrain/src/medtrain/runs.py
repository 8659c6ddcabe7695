"""The run folder (docs/schemas.md §3): where it is, and the files medeval and the Hub read."""

from __future__ import annotations

import csv
import importlib.metadata
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from medtrain.card import CardFacts, render_card
from medtrain.chat import OFFICIAL_TEMPLATES
from medtrain.config import RecipeConfig, from_dict, to_dict
from medtrain.errors import ConfigError, UserError
from medtrain.locations import absolute

LOSS_COLUMNS = ("step", "loss", "lr", "grad_norm", "tokens")
"""Columns of loss.csv, one row per logging step."""

VERSIONED = (
    "torch",
    "transformers",
    "peft",
    "trl",
    "accelerate",
    "datasets",
    "bitsandbytes",
    "unsloth",
)
"""Libraries whose versions environment.json records."""


def run_name(recipe_name: str, when: time.struct_time | None = None) -> str:
    """`<recipe>-<YYYYmmdd-HHMMSS>` in UTC: the one way run folders are named."""
    return f"{recipe_name}-{time.strftime('%Y%m%d-%H%M%S', when or time.gmtime())}"


def new_run_dir(recipe: RecipeConfig) -> Path:
    name = run_name(recipe.name)
    run = Path(recipe.output.root) / name
    suffix = 1
    while run.exists():
        suffix += 1
        run = Path(recipe.output.root) / f"{name}-{suffix}"
    run.mkdir(parents=True)
    return run


def latest_run(recipe: RecipeConfig) -> Path:
    """The newest run of this recipe that has a checkpoint (what --resume continues)."""
    root = Path(recipe.output.root)
    runs = sorted(
        (p for p in root.glob(f"{recipe.name}-*") if any(p.glob("checkpoints/checkpoint-*"))),
        key=lambda p: p.stat().st_mtime,
    )
    if not runs:
        raise UserError(f"--resume: no run of '{recipe.name}' with a checkpoint under {root}")
    return runs[-1]


def last_checkpoint(run: Path) -> Path | None:
    points = sorted(run.glob("checkpoints/checkpoint-*"), key=lambda p: int(p.name.split("-")[-1]))
    complete = [p for p in points if (p / "trainer_state.json").is_file()]
    return complete[-1] if complete else None


def stored(recipe: RecipeConfig) -> dict[str, Any]:
    """The recipe as config.yaml holds it: every local path absolute (docs/schemas.md §3), so
    the run reads the same from any working directory."""
    data = to_dict(recipe)
    model, dataset = data["model"], data["data"]
    for key in ("base", "resolved_path"):
        if model[key] is not None:
            model[key] = absolute(model[key])
    if model["chat_template"] not in ("tokenizer", *OFFICIAL_TEMPLATES):
        model["chat_template"] = absolute(model["chat_template"])
    dataset["dataset"] = absolute(dataset["dataset"])
    data["output"]["root"] = str(Path(recipe.output.root).resolve())
    return data


def write_config(run: Path, recipe: RecipeConfig) -> None:
    (run / "config.yaml").write_text(yaml.safe_dump(stored(recipe), sort_keys=False))


def read_config(run: Path) -> RecipeConfig:
    """config.yaml through the typed recipe loader; a relative path is relative to the run."""
    path = run / "config.yaml"
    if not path.is_file():
        raise UserError(f"{run} is not a medtrain run folder (no config.yaml)")
    try:
        recipe = from_dict(RecipeConfig, yaml.safe_load(path.read_text(encoding="utf-8")))
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None
    model, data = recipe.model, recipe.data
    model.base = _in_run(run, model.base)
    model.chat_template = _in_run(run, model.chat_template)
    if model.resolved_path is not None:
        model.resolved_path = _in_run(run, model.resolved_path)
    data.dataset = _in_run(run, data.dataset)
    return recipe


def _in_run(run: Path, ref: str) -> str:
    inside = run / ref
    return str(inside.resolve()) if not Path(ref).is_absolute() and inside.exists() else ref


def environment(device: str) -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for name in ("medtrain", *VERSIONED):  # medtrain is None where it runs from PYTHONPATH
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "device": device,
        **versions,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def trim_loss_csv(path: Path, last_step: int) -> None:
    """Forget rows logged after the checkpoint a resumed run restarts from."""
    if not path.is_file():
        return
    with path.open() as f:
        rows = [r for r in csv.DictReader(f) if int(r["step"]) <= last_step]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, LOSS_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def append_loss_row(path: Path, row: dict[str, Any]) -> None:
    new = not path.is_file()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, LOSS_COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def write_model_card(run: Path, recipe: RecipeConfig, stats: dict[str, Any]) -> None:
    """The run folder's README.md: the same card `medtrain publish` pushes, for this folder."""
    facts = CardFacts.of_run(recipe, (run / "config.yaml").read_text(encoding="utf-8"))
    (run / "README.md").write_text(render_card(run, recipe, facts, stats), encoding="utf-8")
