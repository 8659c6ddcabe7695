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

from medtrain.config import RecipeConfig, to_dict
from medtrain.errors import UserError

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


def new_run_dir(recipe: RecipeConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    run = Path(recipe.output.root) / f"{recipe.name}-{stamp}"
    suffix = 1
    while run.exists():
        suffix += 1
        run = Path(recipe.output.root) / f"{recipe.name}-{stamp}-{suffix}"
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


def write_config(run: Path, recipe: RecipeConfig) -> None:
    (run / "config.yaml").write_text(yaml.safe_dump(to_dict(recipe), sort_keys=False))


def read_config(run: Path) -> RecipeConfig:
    from medtrain.config import from_dict

    path = run / "config.yaml"
    if not path.is_file():
        raise UserError(f"{run} is not a medtrain run folder (no config.yaml)")
    return from_dict(RecipeConfig, yaml.safe_load(path.read_text()))


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


MODEL_CARD = """---
base_model: {base}
library_name: peft
tags: [medtrain, lora, medical, {backend}]
datasets: [{dataset}]
---

# {name} (LoRA adapter)

LoRA adapter for `{base}`, trained by medtrain recipe `{name}` on the dataset `{dataset}`
(answer-only loss, rendered with the model's chat template `{template}`).

## Training

| setting | value |
| --- | --- |
{settings}

## Results

| stat | value |
| --- | --- |
{stats}

Reproduce: `medtrain train {name}` with the config.yaml of this folder
(`medtrain train config.yaml` also works).
"""


def write_model_card(run: Path, recipe: RecipeConfig, stats: dict[str, Any]) -> None:
    t, lora = recipe.training, recipe.lora
    settings = {
        "LoRA": f"r={lora.r} alpha={lora.alpha} dropout={lora.dropout} rsLoRA={lora.use_rslora} "
        f"DoRA={lora.use_dora} on {', '.join(lora.target_modules)}",
        "batch": f"{t.per_device_train_batch_size} x grad-accum {t.gradient_accumulation_steps}",
        "steps": f"max_steps={t.max_steps}, epochs={t.num_train_epochs}",
        "optimizer": f"{t.optim}, lr {t.learning_rate}, {t.lr_scheduler_type}, "
        f"warmup {t.warmup_steps}, weight decay {t.weight_decay}",
        "max_seq_length": recipe.model.max_seq_length,
        "4-bit base": recipe.model.load_in_4bit,
        "seed": t.seed,
    }
    text = MODEL_CARD.format(
        base=recipe.model.base,
        backend=stats.get("backend", ""),
        dataset=recipe.data.dataset,
        name=recipe.name,
        template=recipe.model.chat_template,
        settings="\n".join(f"| {k} | {v} |" for k, v in settings.items()),
        stats="\n".join(f"| {k} | {v} |" for k, v in stats.items()),
    )
    (run / "README.md").write_text(text)
