"""The training run: machine check, backend, data, transformers Trainer, run-folder outputs."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from medtrain import runs
from medtrain.backends import Loaded, pick_backend
from medtrain.config import RecipeConfig
from medtrain.data import Collator, Prepared, prepare
from medtrain.errors import UserError
from medtrain.models import has_cuda

CPU_RECIPE = "smollm2-cpu"


def check_machine(recipe: RecipeConfig, force: bool) -> None:
    """A 7B recipe without CUDA would run for days or not at all: stop before loading anything."""
    if recipe.model.requires_cuda and not has_cuda() and not force:
        raise UserError(
            f"recipe '{recipe.name}' trains {recipe.model.base} and needs a CUDA GPU, but torch "
            f"sees none; on this machine run `medtrain train {CPU_RECIPE}` "
            "(or pass --force to try anyway)"
        )


def training_arguments(recipe: RecipeConfig, run: Path, distributed: bool) -> Any:
    from transformers import TrainingArguments

    t = recipe.training
    names = {f.name for f in dataclasses.fields(TrainingArguments)}
    sampling = (
        {"train_sampling_strategy": "group_by_length" if t.group_by_length else "random"}
        if "train_sampling_strategy" in names
        else {"group_by_length": t.group_by_length}
    )
    return TrainingArguments(
        output_dir=str(run / "checkpoints"),
        per_device_train_batch_size=t.per_device_train_batch_size,
        per_device_eval_batch_size=t.per_device_train_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        num_train_epochs=t.num_train_epochs,
        max_steps=t.max_steps,
        learning_rate=t.learning_rate,
        warmup_steps=t.warmup_steps,
        optim=t.optim,
        weight_decay=t.weight_decay,
        lr_scheduler_type=t.lr_scheduler_type,
        seed=t.seed,
        data_seed=t.seed,
        logging_steps=t.logging_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        gradient_checkpointing=t.gradient_checkpointing,
        bf16=has_cuda() and recipe.model.dtype in ("auto", "bfloat16"),
        report_to="none",
        include_num_input_tokens_seen="non_padding",
        remove_unused_columns=False,
        disable_tqdm=False,
        use_cpu=not has_cuda(),
        ddp_find_unused_parameters=False if distributed else None,
        **sampling,
    )


def _loss_logger(path: Path, is_main: bool) -> Any:
    from transformers import TrainerCallback

    class LossCsv(TrainerCallback):
        """One loss.csv row per logging step (the main process writes)."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if is_main and logs and "loss" in logs:
                runs.append_loss_row(
                    path,
                    {
                        "step": state.global_step,
                        "loss": logs["loss"],
                        "lr": logs.get("learning_rate"),
                        "grad_norm": logs.get("grad_norm"),
                        "tokens": state.num_input_tokens_seen,
                    },
                )

    return LossCsv()


def _seeded_trainer_class() -> Any:
    from transformers import Trainer
    from transformers.trainer_pt_utils import LengthGroupedSampler

    class SeededTrainer(Trainer):
        """Length-grouped batches drawn from a seeded generator, not the global RNG: a run
        resumed from a checkpoint (which restores the global RNG) sees the same batch order."""

        def _get_train_sampler(self, train_dataset: Any = None) -> Any:
            import torch

            sampler = super()._get_train_sampler(train_dataset)
            if isinstance(sampler, LengthGroupedSampler) and sampler.generator is None:
                sampler.generator = torch.Generator().manual_seed(
                    self.args.data_seed or self.args.seed
                )
            return sampler

    return SeededTrainer


def peak_memory_mb() -> float:
    import torch

    if has_cuda():
        return float(torch.cuda.max_memory_allocated()) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_backend(recipe: RecipeConfig) -> Loaded:
    name = pick_backend(recipe.training.backend)
    module = importlib.import_module(f"medtrain.backends.{name}")
    loaded: Loaded = module.load(recipe)
    return loaded


def _datasets(recipe: RecipeConfig, tokenizer: Any) -> tuple[Prepared, Prepared]:
    data, max_len, seed = recipe.data, recipe.model.max_seq_length, recipe.training.seed
    train_set = prepare(tokenizer, data, data.train_split, max_len, data.max_train_samples, seed)
    test_set = prepare(tokenizer, data, data.test_split, max_len, data.max_eval_samples, seed)
    if len(train_set.dataset) == 0:
        raise UserError(f"no training example of {data.dataset} fits max_seq_length={max_len}")
    return train_set, test_set


def train(
    recipe: RecipeConfig,
    run: Path | None = None,
    resume: bool = False,
    force: bool = False,
    data: tuple[Prepared, Prepared] | None = None,
) -> Path:
    """Train a recipe into a run folder (new, or the one --resume continues); returns it.
    `data` (train, held-out) replaces the recipe's dataset: gpu/check.py trains on random ids
    where neither datasets nor a built variant is at hand."""
    import torch
    import torch.distributed as dist
    from transformers import set_seed

    check_machine(recipe, force)
    if recipe.training.num_threads:
        torch.set_num_threads(recipe.training.num_threads)
    if run is None:
        run = runs.latest_run(recipe) if resume else runs.new_run_dir(recipe)
    run.mkdir(parents=True, exist_ok=True)
    checkpoint = runs.last_checkpoint(run) if resume else None
    if resume and checkpoint is None:
        raise UserError(f"--resume: {run} has no complete checkpoint")
    set_seed(recipe.training.seed)
    loaded = load_backend(recipe)
    loaded.model.config.use_cache = False  # a KV cache also hides packed-example boundaries
    if loaded.resolved_path != recipe.model.base:
        recipe.model.resolved_path = loaded.resolved_path
    train_set, test_set = data or _datasets(recipe, loaded.tokenizer)
    args = training_arguments(recipe, run, int(os.environ.get("WORLD_SIZE", "1")) > 1)
    is_main = args.process_index == 0
    if is_main:
        runs.write_config(run, recipe)
    trainer = _seeded_trainer_class()(
        model=loaded.model,
        args=args,
        train_dataset=train_set.dataset,
        eval_dataset=test_set.dataset,
        data_collator=Collator(loaded.tokenizer.pad_token_id, recipe.data.packing),
        processing_class=loaded.tokenizer,
        callbacks=[_loss_logger(run / "loss.csv", is_main)],
    )
    before_path = run / "checkpoints" / "eval_before.json"
    if checkpoint is None:  # a fresh start: score the untouched base on the held-out answers
        (run / "loss.csv").unlink(missing_ok=True)
        # under DeepSpeed, evaluating before train() leaves the Trainer without its training
        # engine (backward fails on None): the base is not scored there
        before = None if trainer.is_deepspeed_enabled else trainer.evaluate()["eval_loss"]
        if is_main:
            before_path.parent.mkdir(exist_ok=True)
            runs.write_json(before_path, {"answer_loss": before})
    else:
        runs.trim_loss_csv(run / "loss.csv", int(checkpoint.name.split("-")[-1]))
    start = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    runtime = time.perf_counter() - start
    after = trainer.evaluate()["eval_loss"]
    save_adapter(trainer, run / "adapter")
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
    if is_main:
        stats = {
            "backend": loaded.backend,
            "runtime_s": round(runtime, 3),
            "train_samples_per_second": result.metrics.get("train_samples_per_second"),
            "tokens_seen": trainer.state.num_input_tokens_seen,
            "tokens_per_second": round(trainer.state.num_input_tokens_seen / runtime, 2),
            "train_loss": result.training_loss,
            "global_step": trainer.state.global_step,
            "eval_answer_loss_before": json.loads(before_path.read_text())["answer_loss"],
            "eval_answer_loss_after": after,
            "train_examples": len(train_set.dataset),
            "dropped_overlong": train_set.dropped_overlong,
            "world_size": args.world_size,
            "peak_memory_mb": round(peak_memory_mb(), 1),
            "resumed_from": checkpoint.name if checkpoint else None,
        }
        write_outputs(run, recipe, stats)
    return run


def save_adapter(trainer: Any, folder: Path) -> None:
    """The adapter and tokenizer, saved by every process: under DeepSpeed ZeRO-3 and FSDP the
    Trainer gathers the sharded LoRA weights first (a plain save_pretrained writes shards)."""
    if trainer.is_fsdp_enabled:
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(folder))
    if trainer.args.process_index == 0:
        (folder / "training_args.bin").unlink(missing_ok=True)  # the run folder has config.yaml


def write_outputs(run: Path, recipe: RecipeConfig, stats: dict[str, Any]) -> None:
    """Stats, environment and model card; checkpoints go unless the recipe keeps them."""
    runs.write_json(run / "trainer_stats.json", stats)
    runs.write_json(run / "environment.json", runs.environment("cuda" if has_cuda() else "cpu"))
    runs.write_model_card(run, recipe, stats)
    if not recipe.training.keep_checkpoints:
        shutil.rmtree(run / "checkpoints", ignore_errors=True)
