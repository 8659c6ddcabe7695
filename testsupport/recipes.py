"""Recipe files for tiny CPU training runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

STEPS = 6
"""Optimizer steps of the shared tiny training run (the `finished_run` fixture)."""

QLORA = {
    "model": {"load_in_4bit": True, "dtype": "auto"},
    "training": {"optim": "adamw_8bit", "gradient_checkpointing": True},
}
"""What the 7B recipes set for QLoRA: 4-bit NF4 base in the device's precision, bitsandbytes'
8-bit AdamW, gradient checkpointing (prepare_model_for_kbit_training follows from 4-bit)."""


def write_recipe(
    path: Path,
    model: Path,
    dataset: Path,
    runs: Path,
    sections: dict[str, dict[str, Any]] | None = None,
    **training: Any,
) -> Path:
    """A CPU recipe YAML training `model` on `dataset` for a handful of steps; `sections`
    overrides keys of any section (e.g. QLORA), `training` keys of the training section."""
    recipe: dict[str, Any] = {
        "name": "tiny",
        "model": {
            "base": str(model), "chat_template": "mistral",
            "dtype": "float32", "max_seq_length": 128,
        },
        "lora": {"r": 4, "alpha": 8},
        "data": {"dataset": str(dataset), "max_eval_samples": 4},
        "training": {
            "backend": "hf", "per_device_train_batch_size": 2, "gradient_accumulation_steps": 1,
            "max_steps": 5, "warmup_steps": 1, "optim": "adamw_torch", "learning_rate": 1e-3,
            "save_steps": 2, "logging_steps": 1,
        },
        "output": {"root": str(runs)},
    }  # fmt: skip
    for section, values in (sections or {}).items():
        recipe[section] = {**recipe.get(section, {}), **values}
    recipe["training"].update(training)
    path.write_text(yaml.safe_dump(recipe))
    return path
