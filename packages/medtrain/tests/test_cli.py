"""The command line: listing, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from medtrain.cli import app


def test_recipes_lists_base_model_and_dataset() -> None:
    got = CliRunner().invoke(app, ["recipes"], env={"COLUMNS": "300"})
    assert got.exit_code == 0
    assert "unsloth/gemma-1.1-7b-it-bnb-4bit" in got.output
    assert "medical_llama3_instruct_dataset_short" in got.output
    assert "smollm2-cpu" in got.output


def test_misspelled_override_is_a_one_line_error() -> None:
    got = subprocess.run(
        [sys.executable, "-m", "medtrain", "train", "smollm2-cpu", "--set", "training.max_step=3"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert got.returncode == 2
    assert got.stderr.strip().count("\n") == 0
    assert "unknown key 'training.max_step'" in got.stderr and "max_steps" in got.stderr
