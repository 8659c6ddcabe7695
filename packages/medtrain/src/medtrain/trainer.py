"""The training run: machine check, backend, data, TRL's SFTTrainer (sft.py), run-folder outputs."""

from __future__ import annotations

import contextlib
import importlib
import os
import resource
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from medtrain import answer_loss, runs
from medtrain.backends import Loaded, pick_backend
from medtrain.config import RecipeConfig
from medtrain.data import Prepared, prepare
from medtrain.errors import UserError
from medtrain.models import has_cuda
from medtrain.sft import check_options, sft_trainer, training_arguments

CPU_RECIPE = "smollm2-cpu"


def check_machine(recipe: RecipeConfig, force: bool) -> None:
    """A 7B recipe without CUDA would run for days or not at all: stop before loading anything."""
    if recipe.model.requires_cuda and not has_cuda() and not force:
        raise UserError(
            f"recipe '{recipe.name}' trains {recipe.model.base} and needs a CUDA GPU, but torch "
            f"sees none; on this machine run `medtrain train {CPU_RECIPE}` "
            "(or pass --force to try anyway)"
        )


def _score_base(trainer: Any, rows: list[answer_loss.Row], path: Path, is_main: bool) -> Any:
    """Scores the untouched base on the held-out answers at the start of train(), on every rank,
    once DDP or DeepSpeed wraps the model (a forward pass before train() leaves DDP ranks
    training apart and DeepSpeed without its engine); keeps the scores in `path` for --resume."""
    from transformers import TrainerCallback

    class ScoreBase(TrainerCallback):
        scores: dict[str, float] | None = None
        """Summed NLL of each held-out row (answer_loss.score)."""
        runtime = 0.0
        """Seconds the scoring took (not training time)."""

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            start = time.perf_counter()
            with trainer.accelerator.autocast():
                self.scores = answer_loss.score(trainer.model_wrapped, rows, "base")
            self.runtime = time.perf_counter() - start
            if is_main:
                answer_loss.save_scores(path, self.scores)

    return ScoreBase()


@contextlib.contextmanager
def tensorboard_dir(path: Path) -> Iterator[None]:
    """TensorBoard (`report_to`) logs beside loss.csv while the trainer is built, unless the user's
    TENSORBOARD_LOGGING_DIR says where (transformers' default is inside checkpoints/, removed
    after a run)."""
    if "TENSORBOARD_LOGGING_DIR" in os.environ:
        yield
        return
    os.environ["TENSORBOARD_LOGGING_DIR"] = str(path)
    try:
        yield
    finally:
        del os.environ["TENSORBOARD_LOGGING_DIR"]


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


def train_split(recipe: RecipeConfig, tokenizer: Any) -> Prepared:
    """The tokenized training split of the recipe's dataset (the held-out rows: answer_loss.py)."""
    data, max_len, seed = recipe.data, recipe.model.max_seq_length, recipe.training.seed
    train_set = prepare(tokenizer, data, data.train_split, max_len, data.max_train_samples, seed)
    if len(train_set.dataset) == 0:
        raise UserError(f"no training example of {data.dataset} fits max_seq_length={max_len}")
    return train_set


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
    check_options(recipe)
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
    if data is None:
        train_set = train_split(recipe, loaded.tokenizer)
        d = recipe.data
        heldout = answer_loss.heldout_rows(
            loaded.tokenizer, d.dataset, d.test_split, d.max_eval_samples
        )
    else:
        train_set, heldout = data[0], answer_loss.prepared_rows(data[1])
    args = training_arguments(recipe, run, int(os.environ.get("WORLD_SIZE", "1")) > 1)
    is_main = args.process_index == 0
    if is_main:
        runs.write_config(run, recipe)
    with tensorboard_dir(run / "tensorboard"):
        trainer = sft_trainer(loaded, args, train_set, [_loss_logger(run / "loss.csv", is_main)])
    before_path = run / "checkpoints" / "answer_loss_base.json"
    if checkpoint is None:  # a fresh start: score the untouched base on the held-out answers
        (run / "loss.csv").unlink(missing_ok=True)
        scoring = _score_base(trainer, heldout, before_path, is_main)
        trainer.add_callback(scoring)
    else:
        runs.trim_loss_csv(run / "loss.csv", int(checkpoint.name.split("-")[-1]))
        before = answer_loss.load_scores(before_path)
    with cpu_paths(trainer.model, args.world_size):
        start = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
        runtime = time.perf_counter() - start
        if checkpoint is None:
            before, runtime = scoring.scores, runtime - scoring.runtime
        with trainer.accelerator.autocast():
            after = answer_loss.score(trainer.model_wrapped, heldout, "fine-tuned")
    save_adapter(trainer, run / "adapter")
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
    if is_main:
        answer_loss.write_rows(run / answer_loss.FILE, heldout, before, after)
        stats = {
            "backend": loaded.backend,
            "runtime_s": round(runtime, 3),
            "train_samples_per_second": result.metrics.get("train_samples_per_second"),
            "tokens_seen": trainer.state.num_input_tokens_seen,
            "tokens_per_second": round(trainer.state.num_input_tokens_seen / runtime, 2),
            "train_loss": result.training_loss,
            "global_step": trainer.state.global_step,
            "eval_answer_loss_before": answer_loss.mean_loss(heldout, before),
            "eval_answer_loss_after": answer_loss.mean_loss(heldout, after),
            "eval_answer_rows": len(heldout),
            "eval_answer_tokens": sum(r.tokens for r in heldout),
            "train_examples": len(train_set.dataset),
            "dropped_overlong": train_set.dropped_overlong,
            "world_size": args.world_size,
            "peak_memory_mb": round(peak_memory_mb(), 1),
            "resumed_from": checkpoint.name if checkpoint else None,
        }
        write_outputs(run, recipe, stats)
    return run


@contextlib.contextmanager
def cpu_paths(model: Any, world_size: int) -> Iterator[None]:
    """What training runs differently on a CPU: the frozen layers' products through oneDNN
    (cpu_linear) and each LoRA update added in one product (fused_lora), both in one process only
    as sharded training moves the weights, and each example of a packed row attended on its own
    (packed_attention). Each is a no-op on a GPU."""
    from medtrain.cpu_linear import onednn_frozen_linears
    from medtrain.fused_lora import fused_lora_layers
    from medtrain.packed_attention import per_example_attention

    with contextlib.ExitStack() as stack:
        if world_size == 1:
            stack.enter_context(onednn_frozen_linears(model))
            stack.enter_context(fused_lora_layers(model))
        stack.enter_context(per_example_attention(model))
        yield


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
