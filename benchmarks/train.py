"""Training throughput and memory of medtrain's CPU recipe against what a user would otherwise run,
in one run on the same rows.

    python benchmarks/train.py [--rows 48] [--dataset data/processed/<variant>]

Each configuration trains SmolLM2-135M-Instruct with LoRA (r 16 on every linear layer) for one
epoch over the same rows (the first `--rows` of the recipe's seeded sample that fit 512 tokens),
in a process of its own, so that its peak RSS is its own:

- `default`: the `smollm2-cpu` recipe as shipped (TRL SFTTrainer over medtrain's tokenized rows,
  best-fit-decreasing packing, padding-free batches);
- `trl-defaults`: TRL SFTTrainer at its defaults on the variant's `messages` (its own chat-template
  tokenization, no packing, batches padded to their longest row, gradient checkpointing on, bf16
  autocast), with the recipe's LoRA and learning rate and 4 rows a step (the rows a step
  smollm2-cpu trained on before packing; a packed row holds about 3);
- `unsloth`: the default path on unsloth's backend, in unsloth's own environment (the python of
  MEDTRAIN_UNSLOTH_PYTHON, default `.nox/tests_unsloth/bin/python` made by `nox -s tests_unsloth`),
  4 rows a step padded: unsloth turns packing off on the CPU (it needs FlashAttention);
- `qlora`: the `smollm2-cpu-qlora` recipe (4-bit NF4 base, 8-bit AdamW, gradient checkpointing);
- `default-bf16`: the default path with `model.dtype=bfloat16` (for comparison: TRL's defaults
  train in bf16 autocast, and CPUs with AVX512-BF16 or AMX run bf16 matmuls natively);
- `default-fused-head`: the default path with TRL's own loss (its fused LM head, which medtrain
  leaves off on the CPU: sft.trainer_class).

Effective tokens/s counts the non-padding tokens trained per second, from the end of the first
step (warm-up) to the end of the last; the CPU seconds of the process are recorded too, since the
machine may be shared. Achieved FLOP/s uses, per effective token,

    FLOPs/token = 4 * N_frozen + 6 * N_lora + 12 * n_layers * d_model * s

(forward 2N plus activation-gradient 2N for frozen matmul weights, incl. the tied lm_head; forward,
activation and weight gradients 6N for LoRA weights; attention scores and values 4*L*d*s forward,
x3 with backward, s = mean example length). The matmul peak is measured in the same run at the
model's own shapes: the forward and input-gradient matmuls of one layer and of the lm_head, at the
default path's tokens per micro-batch, fp32, best of 10, same threads, by the faster of MKL and
oneDNN. Targets: the default path
>= 1.3x trl-defaults' effective tokens/s and >= 70% of the matmul peak.
Writes artifacts/bench/train.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "artifacts" / "bench" / "train.json"
DEFAULT_DATASET = "data/processed/medical_mistral_instruct_dataset_short"
CONFIGS = ("default", "trl-defaults", "unsloth", "qlora", "default-bf16", "default-fused-head")
QLORA_RECIPE = "smollm2-cpu-qlora"
ROWS_PER_STEP = 4
"""Rows a step where rows are not packed (trl-defaults, unsloth)."""
TARGET_SPEEDUP, TARGET_FRACTION = 1.3, 0.7


def rss_mb() -> float:
    """Resident memory now (the peak is ru_maxrss)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peak(config: Any, tokens: int, repeats: int = 10) -> float:
    """FLOP/s of the model's own matmuls (one layer's forward and input-gradient products, and the
    lm_head's) at `tokens` rows, best of `repeats`, by the faster of torch's two fp32 CPU kernels:
    MKL's (`torch.mm`) and oneDNN's (what medtrain's CPU training calls: medtrain.cpu_linear; on
    AMD processors MKL takes its AVX2 path at under half oneDNN's rate)."""
    d, m, v = config.hidden_size, config.intermediate_size, config.vocab_size
    kv = config.num_key_value_heads * (d // config.num_attention_heads)
    shapes = [(d, d), (d, kv), (d, kv), (d, d), (d, m), (d, m), (m, d), (d, v)]
    pairs = [(torch.randn(tokens, i), torch.randn(i, o)) for i, o in shapes]
    pairs += [(torch.randn(tokens, o), torch.randn(o, i)) for i, o in shapes]  # input gradients
    flops = sum(2 * tokens * a.shape[1] * b.shape[1] for a, b in pairs)
    kernels = {
        "mkl": torch.mm,
        "onednn": lambda a, b: torch.ops.mkldnn._linear_pointwise(a, b.t(), None, "none", [], ""),
    }
    best = float("inf")
    for product in kernels.values():
        for _ in range(repeats):
            start = time.perf_counter()
            for a, b in pairs:
                product(a, b)
            best = min(best, time.perf_counter() - start)
    return flops / best


def flops_per_token(model: Any, mean_len: float) -> float:
    frozen = lora = 0
    for name, p in model.named_parameters():
        if p.ndim != 2 and "lora_" not in name:
            continue
        n = p.numel() * (2 if getattr(p, "quant_type", None) else 1)  # 4-bit: 2 values a byte
        if "lora_" in name:
            lora += n
        elif "embed_tokens" not in name or model.config.tie_word_embeddings:
            frozen += n  # the tied embedding is the lm_head matmul
    cfg = model.config
    return 4 * frozen + 6 * lora + 12 * cfg.num_hidden_layers * cfg.hidden_size * mean_len


QLORA_SETTINGS = [
    "model.load_in_4bit=true", "training.optim=adamw_8bit", "training.gradient_checkpointing=true",
    "lora.alpha=16", "data.packing=false", "training.per_device_train_batch_size=2",
    "training.gradient_accumulation_steps=4",
]  # fmt: skip
"""The 7B recipes' settings on SmolLM2, until the smollm2-cpu-qlora recipe exists."""


def settings(trainer: Any) -> dict[str, Any]:
    """What the configuration trained with."""
    a = trainer.args
    return {
        "rows_or_packed_rows_per_micro_batch": a.per_device_train_batch_size,
        "gradient_accumulation_steps": a.gradient_accumulation_steps,
        "packing": a.packing,
        "padding_free": getattr(trainer, "padding_free", a.padding_free),
        "bf16_autocast": a.bf16,
        "weights_dtype": str(next(trainer.model.parameters()).dtype),
        "gradient_checkpointing": a.gradient_checkpointing,
        "trl_fused_lm_head": type(trainer).__name__ != "ModelLossSFTTrainer",
    }


def recipe_for(config: str, dataset: str) -> Any:
    from medtrain.recipes import load_recipe, recipe_names

    sets = [f"data.dataset={dataset}", "training.save_steps=100000", "training.max_steps=-1"]
    if config in ("unsloth", "trl-defaults"):
        sets += ["data.packing=false", f"training.per_device_train_batch_size={ROWS_PER_STEP}"]
    if config == "unsloth":
        sets.append("training.backend=unsloth")
    if config == "default-bf16":
        sets.append("model.dtype=bfloat16")
    if config != "qlora":
        return load_recipe("smollm2-cpu", sets)
    if QLORA_RECIPE in recipe_names():
        return load_recipe(QLORA_RECIPE, sets)
    return load_recipe("smollm2-cpu", [*sets, *QLORA_SETTINGS])


def trl_defaults_trainer(
    config: str, recipe: Any, rows: Any, run: Path, callbacks: list[Any]
) -> Any:
    """SFTTrainer as its documentation's example runs it, on the same rows' `messages`."""
    from trl import SFTConfig, SFTTrainer

    from medtrain.backends.hf import peft_config
    from medtrain.data import load_split
    from medtrain.models import load_model, load_tokenizer

    t = recipe.training
    raw = load_split(recipe.data.dataset, "train").select(rows["row"]).select_columns(["messages"])
    args = SFTConfig(
        output_dir=str(run), per_device_train_batch_size=t.per_device_train_batch_size,
        gradient_accumulation_steps=t.gradient_accumulation_steps,
        learning_rate=t.learning_rate, num_train_epochs=1, save_strategy="no", report_to="none",
        include_num_input_tokens_seen="non_padding", use_cpu=True,
    )  # fmt: skip
    model = load_model(recipe.model.resolved_path, recipe.model)
    tokenizer = load_tokenizer(recipe.model.resolved_path)
    return SFTTrainer(
        model=model, args=args, train_dataset=raw, processing_class=tokenizer,
        peft_config=peft_config(recipe.lora), callbacks=callbacks,
    )  # fmt: skip


def medtrain_trainer(config: str, recipe: Any, rows: Any, run: Path, callbacks: list[Any]) -> Any:
    from medtrain.data import Prepared
    from medtrain.sft import sft_trainer, training_arguments
    from medtrain.trainer import load_backend

    loaded = load_backend(recipe)
    loaded.model.config.use_cache = False
    if recipe.model.load_in_4bit and not getattr(loaded.model, "is_loaded_in_4bit", False):
        raise RuntimeError("the base did not load in 4-bit here (medtrain gates 4-bit on CUDA)")
    args = training_arguments(recipe, run, distributed=False)
    fused = True if config == "default-fused-head" else None  # None: medtrain's choice
    return sft_trainer(loaded, args, Prepared(rows, 0), callbacks, fused_lm_head=fused)


def worker(config: str, n_rows: int, dataset: str) -> dict[str, Any]:
    """Train one configuration for an epoch over the rows; its measurements."""
    from transformers import TrainerCallback, set_seed

    from medtrain.data import prepare
    from medtrain.models import load_tokenizer, resolve_base
    from medtrain.trainer import cpu_paths

    rss = {"imported": rss_mb()}
    recipe, default = recipe_for(config, dataset), recipe_for("default", dataset)
    recipe.model.resolved_path = resolve_base(recipe.model)
    set_seed(recipe.training.seed)
    tokenizer = load_tokenizer(recipe.model.resolved_path)
    if recipe.model.chat_template != "tokenizer":
        raise RuntimeError("the benchmark renders rows with the tokenizer's own chat template")
    every = prepare(tokenizer, recipe.data, "train", 10**9, None, 0).dataset  # one per raw row
    rows = every.add_column("row", list(range(len(every))))
    rows = rows.filter(lambda r: r["length"] <= default.model.max_seq_length)
    rows = rows.shuffle(seed=default.training.seed).select(range(n_rows))  # same in every config
    rss["data"] = rss_mb()
    marks: list[tuple[float, float, int]] = []

    class Clock(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            marks.append((time.perf_counter(), time.process_time(), state.num_input_tokens_seen))

    run = Path(f"/tmp/medtrain-bench-{os.getpid()}")
    build = trl_defaults_trainer if config == "trl-defaults" else medtrain_trainer
    trainer = build(config, recipe, rows, run, [Clock()])
    rss["trainer_ready"] = rss_mb()
    # medtrain's runs train inside medtrain.trainer.train, which runs them in its CPU paths (the
    # frozen fp32 layers through oneDNN, packed rows attended per example); a plain TRL run does not
    mine = config != "trl-defaults"
    with cpu_paths(trainer.model, 1) if mine else contextlib.nullcontext():
        trainer.train()
    (w0, c0, n0), (w1, c1, n1) = marks[0], marks[-1]
    tokens, seconds, cpu = n1 - n0, w1 - w0, c1 - c0
    micro = (len(marks) - 1) * trainer.args.gradient_accumulation_steps
    return {
        "optimizer_steps": len(marks),
        "effective_tokens": tokens,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "effective_tokens_per_s": round(tokens / seconds, 1),
        "effective_tokens_per_cpu_s": round(tokens / cpu, 1),
        "tokens_per_micro_batch": round(tokens / micro, 1),
        "mean_example_len": round(sum(rows["length"]) / len(rows), 1),
        "flops_per_token": flops_per_token(trainer.model, sum(rows["length"]) / len(rows)),
        "settings": settings(trainer),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_mb": {k: round(v, 1) for k, v in rss.items()},
        "threads": torch.get_num_threads(),
        "versions": {m: __import__(m).__version__ for m in ("torch", "transformers", "trl")},
    }


def run_config(config: str, args: argparse.Namespace) -> dict[str, Any]:
    python = sys.executable
    if config == "unsloth":
        python = os.environ.get(
            "MEDTRAIN_UNSLOTH_PYTHON", str(ROOT / ".nox/tests_unsloth/bin/python")
        )
        if not Path(python).is_file():
            return {"error": f"no unsloth environment at {python}: run `nox -s tests_unsloth` "
                    "or set MEDTRAIN_UNSLOTH_PYTHON"}  # fmt: skip
    cmd = [
        python,
        __file__,
        "--worker",
        config,
        "--rows",
        str(args.rows),
        "--dataset",
        args.dataset,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "failed"}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=48, help="training rows per configuration")
    parser.add_argument("--dataset", default=DEFAULT_DATASET, help="variant folder or Hub id")
    parser.add_argument("--only", nargs="*", choices=CONFIGS, help="run only these")
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rows, args.dataset)))
        return
    if not Path(args.dataset).exists():
        sys.exit(f"{args.dataset} missing: build it with `meddata build` or pass --dataset")
    load = [os.getloadavg()[0]]
    results = {c: run_config(c, args) for c in (args.only or CONFIGS)}
    load.append(os.getloadavg()[0])
    for config, result in results.items():
        print(config, result, flush=True)
    from transformers import AutoConfig

    from medtrain.models import resolve_base

    default = results.get("default", {})
    model_config = AutoConfig.from_pretrained(
        resolve_base(recipe_for("default", args.dataset).model)
    )
    peak = matmul_peak(model_config, int(default.get("tokens_per_micro_batch", 512)))
    for r in results.values():
        if "error" not in r:
            r["achieved_flop_s"] = r["effective_tokens_per_s"] * r["flops_per_token"]
            r["fraction_of_matmul_peak"] = round(r["achieved_flop_s"] / peak, 3)
    trl = results.get("trl-defaults", {})
    speedup = (
        default["effective_tokens_per_s"] / trl["effective_tokens_per_s"]
        if "effective_tokens_per_s" in default and "effective_tokens_per_s" in trl
        else None
    )
    fraction = default.get("fraction_of_matmul_peak")
    summary = {
        "model": "SmolLM2-135M-Instruct, LoRA r 16 on every linear layer",
        "dataset": args.dataset,
        "rows": args.rows,
        "load_average_before_after": load,
        "matmul_peak_flop_s": peak,
        "flop_formula": "per effective token: 4*N_frozen + 6*N_lora + 12*n_layers*d_model*mean_len",
        "speedup_vs_trl_defaults": round(speedup, 2) if speedup else None,
        "target_speedup": TARGET_SPEEDUP,
        "fraction_of_matmul_peak": fraction,
        "target_fraction_of_peak": TARGET_FRACTION,
        "met": bool(
            speedup and fraction and speedup >= TARGET_SPEEDUP and fraction >= TARGET_FRACTION
        ),
        "configs": results,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "configs"}, indent=2))


if __name__ == "__main__":
    main()
