"""A finished training run folder (docs/schemas.md §3) of a tiny model, without training, and the
eval/ files medeval adds (§4): every file matches its schema in schemas/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from testsupport.schemas import validate_run_folder
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer
from testsupport.variants import QA, qa_pair_rows, write_variant

BASE_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
"""The base model the tiny runs name (its weights come from `model.resolved_path`)."""

STATS = {
    "backend": "hf", "runtime_s": 12.5, "train_samples_per_second": 3.2, "tokens_seen": 2000,
    "tokens_per_second": 160.0, "train_loss": 2.3456, "global_step": 20,
    "eval_answer_loss_before": 2.5, "eval_answer_loss_after": 2.1, "train_examples": 40,
    "dropped_overlong": 0, "world_size": 1, "peak_memory_mb": 512.0, "resumed_from": None,
    "eval_answer_rows": 6, "eval_answer_tokens": 75,
}  # fmt: skip
"""trainer_stats.json of the tiny runs."""

ENVIRONMENT = {
    "python": "3.11.2", "platform": "Linux", "device": "cpu", "medtrain": "0.1.0",
    "torch": "2.13.0", "transformers": "5.24.0", "peft": "0.21.0", "trl": "1.16.0",
    "accelerate": "1.15.0", "datasets": "5.2.0", "bitsandbytes": None, "unsloth": None,
}  # fmt: skip


def write_run(root: Path, name: str = "tiny-cpu-20260101-000000") -> Path:
    """Base model in root/base, dataset in root/variant, run folder in root/runs/<name>: a random
    LoRA adapter (non-zero B, so base and fine-tuned differ) over a tiny ChatML Llama."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    tokenizer = chatml_byte_tokenizer()
    base_dir, variant, run = root / "base", root / "variant", root / "runs" / name
    if not base_dir.exists():
        tiny_chat_llama(len(tokenizer)).save_pretrained(base_dir)
        tokenizer.save_pretrained(base_dir)
        write_variant(variant, qa_pair_rows(QA[:2]), qa_pair_rows(QA))
    torch.manual_seed(1)
    lora = LoraConfig(
        r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False
    )
    peft_model = get_peft_model(LlamaForCausalLM.from_pretrained(base_dir), lora)
    peft_model.save_pretrained(run / "adapter")
    tokenizer.save_pretrained(run / "adapter")
    config = {
        "name": "tiny-cpu",
        "model": {
            "base": BASE_ID,
            "resolved_path": str(base_dir.resolve()),
            "chat_template": "tokenizer",
        },
        "data": {"dataset": str(variant.resolve()), "test_split": "test"},
        "training": {"learning_rate": 2e-4, "max_steps": 20},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    (run / "loss.csv").write_text(
        "step,loss,lr,grad_norm,tokens\n"
        + "".join(f"{s},{3.0 - 0.1 * s:.3f},0.0002,1.0,{100 * s}\n" for s in range(1, 21)),
        encoding="utf-8",
    )
    # medtrain's held-out answer loss (docs/schemas.md §3): the fine-tuned model lower on each row.
    (run / "answer_loss.jsonl").write_text(
        "".join(
            json.dumps(
                {
                    "id": f"medquad:{i}",
                    "tokens": 10 + i,
                    "base": 30.0 + 3 * i,
                    "finetuned": 24.0 + 2 * i,
                }
            )
            + "\n"
            for i in range(len(QA))
        ),
        encoding="utf-8",
    )
    (run / "trainer_stats.json").write_text(json.dumps(STATS, indent=2), encoding="utf-8")
    (run / "environment.json").write_text(json.dumps(ENVIRONMENT, indent=2), encoding="utf-8")
    (run / "README.md").write_text(f"# {name} (LoRA adapter)\n", encoding="utf-8")
    validate_run_folder(run)
    return run


def _scores(gold: int, right: bool) -> dict[str, Any]:
    pred = gold if right else (gold + 1) % 3
    logprobs = [-0.5 if choice == pred else -2.0 for choice in range(3)]
    return {"logprobs": logprobs, "pred": pred, "pred_norm": pred}


def benchmark_items(
    n: int, base_right: tuple[int, int], finetuned_right: tuple[int, int]
) -> list[dict[str, Any]]:
    """Lines of a 3-choice task's benchmarks/<task>.jsonl: items [start, stop) of each range are
    answered right, so the fine-tuned model newly gets some right and some wrong."""
    return [
        {
            "id": str(10_000 + i),
            "gold": i % 3,
            "base": _scores(i % 3, base_right[0] <= i < base_right[1]),
            "finetuned": _scores(i % 3, finetuned_right[0] <= i < finetuned_right[1]),
        }
        for i in range(n)
    ]


def write_eval(run: Path) -> Path:
    """What `medeval evaluate` adds to a run folder: metrics, benchmarks (PubMedQA's items: the
    fine-tuned model newly right on 10, newly wrong on 4), samples, the loss plot and the report
    (fixed values, for the readers of these files)."""
    (run / "eval").mkdir(exist_ok=True)
    (run / "eval/loss.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    model = {"answer_loss": 2.0, "perplexity": 7.389, "n": 50, "answer_tokens": 900}
    overlap = {"rouge_l": 0.12, "token_f1": 0.2, "n_generated": 8}
    metrics = {
        "base": {**model, **overlap},
        "finetuned": {**model, **overlap, "answer_loss": 1.5, "rouge_l": 0.21},
    }
    (run / "eval/metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    result = {"acc": 0.5, "stderr": 0.05, "acc_norm": 0.48, "acc_norm_stderr": 0.05, "n": 100}
    bench = {"pubmedqa": {"base": result, "finetuned": {**result, "acc": 0.56}}}
    (run / "eval/benchmarks.json").write_text(json.dumps(bench), encoding="utf-8")
    (run / "eval/benchmarks").mkdir(exist_ok=True)
    items = "".join(json.dumps(line) + "\n" for line in benchmark_items(100, (0, 50), (4, 60)))
    (run / "eval/benchmarks/pubmedqa.jsonl").write_text(items, encoding="utf-8")
    sample = {"id": "medquad:0", "question": "What is asthma?", "reference": "A lung disease."}
    line = json.dumps({**sample, "base": "A cough.", "finetuned": "A disease of the airways."})
    (run / "eval/samples.jsonl").write_text(line + "\n", encoding="utf-8")
    (run / "report.md").write_text("# Report\n", encoding="utf-8")
    validate_run_folder(run)
    return run
