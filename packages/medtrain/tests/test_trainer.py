"""Training on a tiny random Mistral: run-folder outputs, determinism, resume after SIGKILL."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml

from medtrain import cpu_linear, packed_attention
from medtrain.recipes import load_recipe
from medtrain.trainer import train
from testsupport.recipes import STEPS
from testsupport.schemas import validate_run_folder


def losses(run: Path) -> list[tuple[int, float]]:
    with (run / "loss.csv").open() as f:
        return [(int(r["step"]), float(r["loss"])) for r in csv.DictReader(f)]


def test_run_folder_has_every_output(finished_run: Path, recipe_file: Path) -> None:
    run = finished_run
    assert run.name.startswith("tiny-")
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
    assert (run / "adapter" / "tokenizer_config.json").is_file()
    config = yaml.safe_load((run / "config.yaml").read_text())
    assert config["model"]["base"] == yaml.safe_load(recipe_file.read_text())["model"]["base"]
    assert config["data"]["test_split"] == "test" and config["data"]["dataset"]
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert stats["global_step"] == STEPS
    for key in (
        "runtime_s",
        "train_samples_per_second",
        "tokens_seen",
        "train_loss",
        "peak_memory_mb",
    ):
        assert stats[key] > 0, key
    with (run / "loss.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == list(range(1, STEPS + 1))
    assert list(rows[0]) == ["step", "loss", "lr", "grad_norm", "tokens"]
    assert int(rows[-1]["tokens"]) == stats["tokens_seen"] > int(rows[0]["tokens"])
    env = json.loads((run / "environment.json").read_text())
    assert env["torch"] and env["transformers"] and env["device"] == "cpu"
    card = (run / "README.md").read_text()
    assert "base_model:" in card and "train_loss" in card
    assert not (run / "checkpoints").exists()


def test_same_seed_same_loss_curve_with_the_frozen_layers_through_onednn(
    finished_run: Path, recipe_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    switched: list[tuple[int, int]] = []
    real = cpu_linear.onednn_frozen_linears

    @contextlib.contextmanager
    def spy(model: Any) -> Iterator[int]:
        with real(model) as count:
            frozen = [
                m
                for m in model.modules()
                if type(m) is torch.nn.Linear
                and "forward" in vars(m)
                and not m.weight.requires_grad
            ]
            switched.append((count, len(frozen)))
            yield count

    monkeypatch.setattr(cpu_linear, "onednn_frozen_linears", spy)
    again = train(load_recipe(str(recipe_file)))
    assert losses(again) == losses(finished_run)
    # the tiny Mistral's 2 layers x 7 base projections and its output head
    assert switched == [(15, 15)]


def test_packed_rows_train_one_example_at_a_time(
    recipe_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Training packs several examples into a row; attention splits it at each example (and the
    model gets transformers' SDPA back for what comes after training)."""
    cuts: list[list[int] | None] = []
    real = packed_attention.example_sizes

    def spy(position_ids: Any) -> list[int] | None:
        cuts.append(real(position_ids))
        return cuts[-1]

    monkeypatch.setattr(packed_attention, "example_sizes", spy)
    run = train(load_recipe(str(recipe_file), ["data.packing=true"]), tmp_path / "packed")
    split = [sizes for sizes in cuts if sizes]
    assert split and all(len(sizes) >= 2 for sizes in split)
    assert json.loads((run / "trainer_stats.json").read_text())["global_step"] == STEPS


@pytest.mark.parametrize("sets", [[], ["data.packing=true"]], ids=["padded", "packing"])
def test_resume_after_sigkill_reaches_the_same_step(
    sets: list[str], finished_run: Path, recipe_file: Path, tmp_path: Path
) -> None:
    """The batch order does not depend on the global RNG a checkpoint restores: length-grouped
    rows are ordered once from the seed, packed rows drawn by accelerate's seeded sampler."""
    whole = train(load_recipe(str(recipe_file), sets), tmp_path / "whole") if sets else finished_run
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "medtrain", "train", str(recipe_file), "--run-dir", str(run)]
    cmd += [a for s in sets for a in ("--set", s)]
    proc = subprocess.Popen(
        [*cmd, "--set", "training.keep_checkpoints=true"], stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 240
    while not (run / "checkpoints" / "checkpoint-2" / "trainer_state.json").is_file():
        assert proc.poll() is None and time.monotonic() < deadline, (
            "training ended before a checkpoint"
        )
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "trainer_stats.json").exists()
    subprocess.run([*cmd, "--resume"], check=True, stderr=subprocess.DEVNULL)
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert stats["global_step"] == STEPS
    assert stats["resumed_from"].startswith("checkpoint-")
    assert [s for s, _ in losses(run)] == list(range(1, STEPS + 1))
    resumed, uninterrupted = ([loss for _, loss in losses(r)] for r in (run, whole))
    assert resumed == pytest.approx(uninterrupted, rel=1e-4)
    # The base model's held-out scores come back from the checkpoint folder, unchanged.
    resumed_base, base = (
        [json.loads(x)["base"] for x in (r / "answer_loss.jsonl").read_text().splitlines()]
        for r in (run, finished_run)
    )
    assert resumed_base == pytest.approx(base, rel=1e-6)


def test_7b_recipe_without_cuda_stops_at_once_naming_the_cpu_recipe() -> None:
    got = subprocess.run(
        [sys.executable, "-m", "medtrain", "train", "mistral"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert got.returncode == 2
    assert "needs a CUDA GPU" in got.stderr and "medtrain train smollm2-cpu" in got.stderr
    assert "Traceback" not in got.stderr


def test_run_folder_matches_the_schemas(finished_run: Path, variant: Path) -> None:
    """What medtrain writes is what schemas/ says medeval and the Hub read."""
    validate_run_folder(finished_run)
    config = yaml.safe_load((finished_run / "config.yaml").read_text())
    assert config["data"]["dataset"] == str(variant.resolve())
    assert Path(config["output"]["root"]).is_absolute()
    from huggingface_hub import ModelCard

    card = ModelCard((finished_run / "README.md").read_text())
    assert card.data.license == "apache-2.0"  # inherited: the tiny base is a Mistral
    assert "## Training statistics" in card.text


def test_report_to_tensorboard_logs_beside_loss_csv(recipe_file: Path, tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    recipe = load_recipe(str(recipe_file), ["training.report_to=tensorboard"])
    run = train(recipe, run=tmp_path / "tb")
    events = EventAccumulator(str(run / "tensorboard")).Reload()
    logged = [(e.step, e.value) for e in events.Scalars("train/loss")]
    assert [s for s, _ in logged] == [s for s, _ in losses(run)] == list(range(1, STEPS + 1))
    assert [v for _, v in logged] == pytest.approx([v for _, v in losses(run)], rel=1e-6)
    assert "TENSORBOARD_LOGGING_DIR" not in os.environ


def test_neftune_noise_reaches_training_not_evaluation(
    finished_run: Path, recipe_file: Path, tmp_path: Path
) -> None:
    recipe = load_recipe(str(recipe_file), ["training.neftune_noise_alpha=5"])
    run = train(recipe, run=tmp_path / "neftune")
    noisy, plain = (json.loads((r / "trainer_stats.json").read_text()) for r in (run, finished_run))
    assert noisy["eval_answer_loss_before"] == pytest.approx(plain["eval_answer_loss_before"])
    assert losses(run)[0][1] != pytest.approx(losses(finished_run)[0][1], rel=1e-4)
