"""TRL's SFTTrainer from a recipe: its arguments, the options checked before any weights load,
and the trainer over medtrain's tokenized rows.

medtrain tokenizes (data.py: ids and answer-only labels, the single source of truth for what is
trained); TRL does the rest: packing (best-fit decreasing) or padding-free batches with per-example
position ids, the collator, the loss normalised over every trained token of an optimizer step
across gradient accumulation and devices (`num_items_in_batch`, `average_tokens_across_devices`),
NEFTune and Liger.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path
from typing import Any

from medtrain import precision
from medtrain.backends import Loaded
from medtrain.config import RecipeConfig
from medtrain.data import Prepared, length_grouped
from medtrain.errors import UserError
from medtrain.models import has_cuda


def reporters(report_to: str | list[str]) -> list[str]:
    """`training.report_to` as a list of integration names (`none` is the empty list)."""
    names = [report_to] if isinstance(report_to, str) else list(report_to)
    return [n for n in names if n != "none"]


def check_options(recipe: RecipeConfig) -> None:
    """Options that need something installed fail here, before any weights load."""
    t = recipe.training
    if t.neftune_noise_alpha is not None and t.neftune_noise_alpha <= 0:
        raise UserError(f"training.neftune_noise_alpha is {t.neftune_noise_alpha}; use > 0 or null")
    if t.use_liger_kernel:
        missing = [m for m in ("liger_kernel", "triton") if importlib.util.find_spec(m) is None]
        if missing or not has_cuda():
            need = f"{' and '.join(missing)} installed" if missing else "a CUDA GPU"
            raise UserError(
                f"training.use_liger_kernel needs {need} (Liger's kernels are Triton GPU kernels: "
                "pip install liger-kernel on a CUDA machine); set training.use_liger_kernel=false"
            )
    names = reporters(t.report_to)
    if names:
        from transformers.integrations import get_available_reporting_integrations
        from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

        for name in names:
            if name != "all" and name not in INTEGRATION_TO_CALLBACK:
                known = ", ".join(["none", "all", *INTEGRATION_TO_CALLBACK])
                raise UserError(f"training.report_to: unknown tracker '{name}'; known: {known}")
            if name != "all" and name not in get_available_reporting_integrations():
                raise UserError(
                    f"training.report_to: {name} is not installed here (pip install {name}), "
                    "or set training.report_to=none"
                )


def training_arguments(recipe: RecipeConfig, run: Path, distributed: bool) -> Any:
    """TRL's SFTConfig for the recipe. Without packing or padding-free, batches are padded and
    `group_by_length` orders the rows once (data.length_grouped) for the sequential sampler.
    The held-out answers are not the Trainer's evaluation: answer_loss.py scores them."""
    from trl import SFTConfig

    t, d = recipe.training, recipe.data
    chosen = precision.resolve(recipe.model.dtype)
    flat = d.packing or d.padding_free
    grouped = t.group_by_length and not flat
    # transformers 5.24 renamed gradient_checkpointing (unsloth's environment pins an older one)
    names = {f.name for f in dataclasses.fields(SFTConfig)}
    renamed = "activation_checkpointing" in names
    name = "activation_checkpointing" if renamed else "gradient_checkpointing"
    checkpointing: dict[str, Any] = {name: t.gradient_checkpointing}
    return SFTConfig(
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
        train_sampling_strategy="sequential" if grouped else "random",
        logging_steps=t.logging_steps,
        save_strategy="steps",
        save_steps=t.save_steps,
        save_total_limit=t.save_total_limit,
        **checkpointing,
        bf16=chosen.bf16,
        fp16=chosen.fp16,
        report_to=reporters(t.report_to) or "none",
        neftune_noise_alpha=t.neftune_noise_alpha,
        use_liger_kernel=t.use_liger_kernel,
        include_num_input_tokens_seen="non_padding",
        average_tokens_across_devices=True,
        disable_tqdm=False,
        use_cpu=not has_cuda(),
        ddp_find_unused_parameters=False if distributed else None,
        # the rows are already tokenized, labelled and no longer than max_seq_length (data.py)
        max_length=recipe.model.max_seq_length if d.packing or not flat else None,
        packing=d.packing,
        packing_strategy="bfd",
        padding_free=d.padding_free,
    )


def trainer_class(fused_lm_head: bool) -> Any:
    """SFTTrainer, or on the CPU SFTTrainer with the model's own loss. TRL's fused LM head scores
    only the trained positions where Triton runs (CUDA), but every position elsewhere, and
    recomputes the head's matmul in backward: on the CPU it trains SmolLM2 18% fewer tokens/s
    and peaks 0.4 GB higher at 512-token rows (benchmarks/train.py). Both losses divide by the
    trained tokens of the whole optimizer step (`num_items_in_batch`)."""
    from transformers import Trainer
    from trl import SFTTrainer

    if fused_lm_head:
        return SFTTrainer

    class ModelLossSFTTrainer(SFTTrainer):
        def compute_loss(
            self,
            model: Any,
            inputs: Any,
            return_outputs: bool = False,
            num_items_in_batch: Any = None,
        ) -> Any:
            return Trainer.compute_loss(self, model, inputs, return_outputs, num_items_in_batch)

    return ModelLossSFTTrainer


def sft_trainer(
    loaded: Loaded,
    args: Any,
    train_set: Prepared,
    callbacks: list[Any],
    fused_lm_head: bool | None = None,
) -> Any:
    """TRL's SFTTrainer over medtrain's tokenized rows (their labels are used as they are);
    `fused_lm_head` defaults to where it pays (CUDA). Rows given as a list (gpu/check.py's random
    ids) become the `datasets.Dataset` TRL reads."""
    from datasets import Dataset

    rows = train_set.dataset
    if isinstance(rows, list):
        rows = Dataset.from_list(rows)
    if args.train_sampling_strategy == "sequential":
        batch = args.per_device_train_batch_size * args.gradient_accumulation_steps
        rows = length_grouped(rows, batch, args.data_seed)
    cls = trainer_class(has_cuda() if fused_lm_head is None else fused_lm_head)
    return cls(
        model=loaded.model,
        args=args,
        train_dataset=rows,
        processing_class=loaded.tokenizer,
        callbacks=callbacks,
    )
