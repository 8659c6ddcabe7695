"""Recipe files for tiny CPU training runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

STEPS = 6
"""Optimizer steps of the shared tiny training run (the `finished_run` fixture)."""


def write_recipe(path: Path, model: Path, dataset: Path, runs: Path, **training: Any) -> Path:
    """A CPU recipe YAML training `model` on `dataset` for a handful of steps."""
    recipe = {
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
            "save_steps": 2, "logging_steps": 1, **training,
        },
        "output": {"root": str(runs)},
    }  # fmt: skip
    path.write_text(yaml.safe_dump(recipe))
    return path
