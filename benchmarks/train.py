"""Training throughput of medtrain's CPU recipe against a naive baseline, in one run.

    python benchmarks/train.py [--steps 8] [--dataset data/processed/<variant>]

Each configuration trains the `smollm2-cpu` recipe's model (SmolLM2-135M-Instruct, fp32 LoRA) for
one epoch over the same rows (steps x batch of them), in its own process (so peak RSS is its own):

- `medtrain`: the recipe's default path (`data.packing`: each batch's examples concatenated into
  one row, attention kept per example, no padding at all);
- `medtrain-no-packing`: length-grouped batches, padded only to the longest in the batch;
- `baseline`: a plain transformers Trainer, every sample padded to max_seq_length, random order.

Effective tokens/s counts non-padding tokens only. Achieved FLOP/s uses, per effective token,

    FLOPs/token = 4 * N_frozen + 6 * N_lora + 12 * n_layers * d_model * s

(forward 2N plus activation-gradient 2N for frozen matmul weights, incl. the tied lm_head; forward,
activation and weight gradients 6N for LoRA weights; attention scores and values 4*L*d*s forward,
x3 with backward, s = mean effective sequence length). The matmul peak is measured in the same
run: fp32 torch.mm of 1024x1024 matrices, best of 20, same threads. Targets: medtrain >= 2x the
baseline's effective tokens/s, and >= 50% of the matmul peak. Writes artifacts/bench/train.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

OUT = Path("artifacts/bench/train.json")
DEFAULT_DATASET = "data/processed/medical_mistral_instruct_dataset_short"
CONFIGS = ("medtrain", "medtrain-no-packing", "baseline")


def matmul_peak(threads: int, n: int = 1024, repeats: int = 20) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best


def flops_per_token(model: Any, mean_len: float) -> float:
    frozen = lora = 0
    for name, p in model.named_parameters():
        if p.ndim != 2:
            continue
        if "lora_" in name:
            lora += p.numel()
        elif "embed_tokens" not in name or model.config.tie_word_embeddings:
            frozen += p.numel()  # the tied embedding is the lm_head matmul
    cfg = model.config
    return 4 * frozen + 6 * lora + 12 * cfg.num_hidden_layers * cfg.hidden_size * mean_len


def worker(config: str, steps: int, dataset: str) -> dict[str, Any]:
    """Train one configuration; returns its measurements (run in a fresh process)."""
    from transformers import Trainer, TrainerCallback

    from medtrain.backends import hf
    from medtrain.data import Collator, prepare
    from medtrain.recipes import load_recipe
    from medtrain.trainer import _seeded_trainer_class, training_arguments

    recipe = load_recipe("smollm2-cpu", [f"data.dataset={dataset}", "training.save_steps=100000"])
    t = recipe.training
    batch = t.per_device_train_batch_size * t.gradient_accumulation_steps
    recipe.training.max_steps, recipe.training.num_train_epochs = -1, 1.0
    recipe.data.packing = recipe.data.packing and config == "medtrain"
    recipe.training.group_by_length = config != "baseline"
    loaded = hf.load(recipe)
    tok, max_len = loaded.tokenizer, recipe.model.max_seq_length
    # one epoch over the same rows (steps x batch of them, seeded) in every configuration
    rows = prepare(tok, recipe.data, "train", max_len, steps * batch, recipe.training.seed).dataset

    marks: list[tuple[float, int]] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            marks.append((time.perf_counter(), state.num_input_tokens_seen))

    run = Path(f"/tmp/medtrain-bench-{os.getpid()}")
    args = training_arguments(recipe, run, distributed=False)
    trainer_cls = Trainer if config == "baseline" else _seeded_trainer_class()
    collator = Collator(
        tok.pad_token_id, recipe.data.packing, max_len if config == "baseline" else None
    )
    trainer = trainer_cls(
        model=loaded.model, args=args, train_dataset=rows, data_collator=collator,
        processing_class=tok, callbacks=[Clock()],
    )  # fmt: skip
    trainer.train()
    (t0, n0), (t1, n1) = marks[0], marks[-1]  # the first step (warm-up) is left out
    seconds, tokens = t1 - t0, n1 - n0
    batch = (
        recipe.training.per_device_train_batch_size * recipe.training.gradient_accumulation_steps
    )
    mean_len = tokens / ((len(marks) - 1) * batch)
    return {
        "effective_tokens": tokens,
        "seconds": round(seconds, 3),
        "effective_tokens_per_s": round(tokens / seconds, 1),
        "mean_effective_seq_len": round(mean_len, 1),
        "flops_per_token": flops_per_token(loaded.model, mean_len),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=12, help="optimizer steps per configuration")
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help="variant folder or Hub id")
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps, args.dataset)))
        return
    if not Path(args.dataset).exists():
        sys.exit(f"{args.dataset} missing: build it with `meddata build` or pass --dataset")
    results: dict[str, Any] = {}
    for config in CONFIGS:
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            config,
            "--steps",
            str(args.steps),
            "--dataset",
            args.dataset,
        ]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results[config] = json.loads(out.stdout.strip().splitlines()[-1])
        print(config, results[config], flush=True)
    peak = matmul_peak(results["medtrain"]["threads"])
    for r in results.values():
        r["achieved_flop_s"] = r["effective_tokens_per_s"] * r["flops_per_token"]
        r["fraction_of_matmul_peak"] = round(r["achieved_flop_s"] / peak, 3)
    speedup = (
        results["medtrain"]["effective_tokens_per_s"]
        / results["baseline"]["effective_tokens_per_s"]
    )
    fraction = results["medtrain"]["fraction_of_matmul_peak"]
    summary = {
        "model": "SmolLM2-135M-Instruct (smollm2-cpu recipe, fp32 LoRA)",
        "dataset": args.dataset,
        "steps": args.steps,
        "matmul_peak_flop_s": peak,
        "flop_formula": "per effective token: 4*N_frozen + 6*N_lora + 12*n_layers*d_model*mean_len",
        "speedup_vs_baseline": round(speedup, 2),
        "target_speedup": 2.0,
        "target_fraction_of_peak": 0.5,
        "fraction_of_matmul_peak": fraction,
        "meets_speedup_target": speedup >= 2.0,
        "meets_peak_target": fraction >= 0.5,
        "met": speedup >= 2.0 and fraction >= 0.5,
        "configs": results,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "configs"}, indent=2))


if __name__ == "__main__":
    main()
