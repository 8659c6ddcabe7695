"""TRL's SFTTrainer as medtrain builds it: the batches hold exactly medtrain's labels, gradient
accumulation weighs every trained token the same, options reach the trainer or fail early."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from medtrain.data import IGNORE
from medtrain.errors import UserError
from medtrain.recipes import load_recipe
from medtrain.sft import check_options, sft_trainer, training_arguments
from medtrain.trainer import load_backend, train_split
from testsupport.paths import REPO
from testsupport.variants import qa_rows, variant_row, write_variant

LAYOUTS = {
    "padded": [],
    "padding_free": ["data.padding_free=true"],
    "packing": ["data.packing=true"],
}
"""Batch layouts and the recipe settings that choose them."""


def trainer_for(
    recipe_file: Path, run: Path, sets: list[str], callbacks: list[Any], fused: bool = False
) -> Any:
    """The SFTTrainer `train` builds for the tiny recipe with `--set` overrides (and TRL's fused
    LM head or the model's own loss), and its rows."""
    from transformers import set_seed

    recipe = load_recipe(str(recipe_file), sets)
    set_seed(recipe.training.seed)
    loaded = load_backend(recipe)
    train_set = train_split(recipe, loaded.tokenizer)
    args = training_arguments(recipe, run, distributed=False)
    trainer = sft_trainer(loaded, args, train_set, callbacks, fused_lm_head=fused)
    return trainer, train_set.dataset


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_trl_trains_on_exactly_our_labels(layout: str, recipe_file: Path, tmp_path: Path) -> None:
    """One epoch of TRL's batches holds every tokenized row once, ids and labels unchanged;
    padding is never trained on."""
    trainer, rows = trainer_for(recipe_file, tmp_path, LAYOUTS[layout], [])
    pad = trainer.processing_class.pad_token_id
    seen = []
    for batch in trainer.get_train_dataloader():
        ids, labels = batch["input_ids"], batch["labels"]
        if layout == "padded":
            for row_ids, row_labels, mask in zip(ids, labels, batch["attention_mask"], strict=True):
                n = int(mask.sum())
                assert (row_ids[n:] == pad).all() and (row_labels[n:] == IGNORE).all()
                seen.append((row_ids[:n].tolist(), row_labels[:n].tolist()))
        else:
            assert ids.shape[0] == 1 and "attention_mask" not in batch
            starts = (batch["position_ids"][0] == 0).nonzero().flatten().tolist()
            for a, b in zip(starts, [*starts[1:], ids.shape[1]], strict=True):
                seen.append((ids[0, a:b].tolist(), labels[0, a:b].tolist()))
    assert sorted(seen) == sorted(zip(rows["input_ids"], rows["labels"], strict=True))


@pytest.fixture(scope="module")
def uneven_variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight training rows whose answers are 1 to 8 sentences long (about 10 to 80 tokens)."""
    rows = [
        variant_row(i, f"What treats condition {i}?", f"Drug {i} treats condition {i}. " * (i + 1))
        for i in range(8)
    ]
    return write_variant(tmp_path_factory.mktemp("uneven"), rows, qa_rows(4, 1000))


def first_step_gradients(
    recipe_file: Path,
    variant: Path,
    run: Path,
    layout: str,
    fused: bool,
    batch: int,
    accumulation: int,
    naive: bool = False,
) -> Any:
    """The LoRA gradients accumulated over the same 8 rows before the first optimizer step."""
    import torch
    from transformers import TrainerCallback

    grads: list[Any] = []

    class Grab(TrainerCallback):
        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            params = kw["model"].parameters()
            grads.extend(p.grad.detach().flatten().clone() for p in params if p.requires_grad)

    sets = [
        *LAYOUTS[layout], f"data.dataset={variant}", "model.max_seq_length=256",
        "training.max_steps=1",
        f"training.per_device_train_batch_size={batch}",
        f"training.gradient_accumulation_steps={accumulation}",
    ]  # fmt: skip
    trainer, rows = trainer_for(recipe_file, run, sets, [Grab()], fused)
    assert len(rows) == 8 and len(set(rows["length"])) == 8
    trainer.args.max_grad_norm = 0.0  # compare the gradients as accumulated, unclipped
    if naive:  # before the 2024 fix: each micro-batch's own token mean, divided by the steps
        token_mean = trainer.compute_loss
        trainer.compute_loss = lambda model, inputs, *a, **kw: token_mean(model, inputs)
        trainer.loss_is_scaled_for_ga = False
    trainer.train()
    return torch.cat(grads)


@pytest.mark.parametrize("fused", [False, True], ids=["model_loss", "trl_fused_head"])
@pytest.mark.parametrize("layout", ["padded", "padding_free"])
def test_gradient_accumulation_matches_one_big_batch(
    layout: str, fused: bool, recipe_file: Path, uneven_variant: Path, tmp_path: Path
) -> None:
    """Batch 2 x accumulation 4 gives batch 8 x 1's gradients (every trained token weighs the
    same); the per-micro-batch mean of the 2024 gradient-accumulation bug does not, by far."""
    grads = {
        name: first_step_gradients(
            recipe_file, uneven_variant, tmp_path / name, layout, fused, *shape
        )
        for name, shape in {"big": (8, 1), "accumulated": (2, 4), "naive": (2, 4, True)}.items()
    }
    big, accumulated, naive = grads["big"], grads["accumulated"], grads["naive"]
    assert big.norm() > 0
    assert ((accumulated - big).norm() / big.norm()).item() < 1e-5
    assert ((naive - big).norm() / big.norm()).item() > 1e-2


def one_sgd_step(recipe_file: Path, variant: Path, run: Path, batch: int, procs: int) -> Any:
    """The adapter after one SGD step (lr 1) over the 8 uneven rows, in 1 or 2 processes (DDP)."""
    from safetensors.torch import load_file

    sets = [
        f"data.dataset={variant}", "model.max_seq_length=256", "data.max_eval_samples=1",
        "training.max_steps=1", "training.optim=sgd", "training.learning_rate=1.0",
        "training.warmup_steps=0", "training.lr_scheduler_type=constant",
        f"training.per_device_train_batch_size={batch}",
    ]  # fmt: skip
    launch = [sys.executable]
    if procs > 1:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = str(s.getsockname()[1])
        launch += [
            "-m", "accelerate.commands.launch", "--num_cpu_threads_per_process", "1",
            "--config_file", str(REPO / "configs" / "accelerate" / "cpu_2proc.yaml"),
            "--main_process_port", port,
        ]  # fmt: skip
    cmd = [*launch, "-m", "medtrain", "train", str(recipe_file), "--run-dir", str(run)]
    got = subprocess.run(
        [*cmd, *(a for s in sets for a in ("--set", s))],
        capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr[-3000:]
    return load_file(run / "adapter" / "adapter_model.safetensors")


def test_two_processes_take_the_step_one_process_takes(
    recipe_file: Path, uneven_variant: Path, tmp_path: Path
) -> None:
    """DDP with 4 rows a rank steps like one process with all 8: each rank's loss is divided by
    the trained tokens of both ranks (`average_tokens_across_devices`), not its own."""
    import torch

    one = one_sgd_step(recipe_file, uneven_variant, tmp_path / "one", 8, procs=1)
    two = one_sgd_step(recipe_file, uneven_variant, tmp_path / "two", 4, procs=2)
    assert one.keys() == two.keys()
    moved = [k for k in one if "lora_B" in k]
    assert moved and all(one[k].abs().max() > 0 for k in moved)
    for key in one:
        torch.testing.assert_close(two[key], one[key], rtol=1e-4, atol=1e-7)


def test_options_reach_the_trainer(recipe_file: Path, tmp_path: Path) -> None:
    sets = [
        "training.neftune_noise_alpha=5", "training.report_to=[tensorboard]",
        "data.packing=true", "training.gradient_accumulation_steps=2",
    ]  # fmt: skip
    args = training_arguments(load_recipe(str(recipe_file), sets), tmp_path, distributed=False)
    assert args.neftune_noise_alpha == 5.0 and args.report_to == ["tensorboard"]
    assert args.packing and args.packing_strategy == "bfd" and args.max_length == 128
    assert args.average_tokens_across_devices
    assert args.train_sampling_strategy == "random" and args.data_seed == 42
    plain = training_arguments(load_recipe(str(recipe_file)), tmp_path, distributed=False)
    assert plain.report_to == [] and plain.neftune_noise_alpha is None
    assert not plain.packing and not plain.padding_free and not plain.bf16
    assert plain.train_sampling_strategy == "sequential"  # rows ordered once by data.length_grouped


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("training.report_to=tensorbored", "unknown tracker 'tensorbored'; known: none, all"),
        ("training.report_to=[tensorboard, clearml]", "clearml is not installed here"),
        ("training.use_liger_kernel=true", "use_liger_kernel needs liger_kernel"),
        ("training.neftune_noise_alpha=0", "use > 0 or null"),
    ],
)
def test_options_fail_before_any_weights_load(
    setting: str, message: str, recipe_file: Path
) -> None:
    with pytest.raises(UserError, match=message):
        check_options(load_recipe(str(recipe_file), [setting]))
