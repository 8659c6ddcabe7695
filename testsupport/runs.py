"""A finished training run folder (docs/schemas.md §3) of a tiny model, without training."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer
from testsupport.variants import QA, qa_pair_rows, write_variant


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
        "model": {
            "base": "tiny/llama",
            "resolved_path": str(base_dir),
            "chat_template": "tokenizer",
        },
        "data": {"dataset": str(variant), "test_split": "test"},
        "train": {"learning_rate": 2e-4, "max_steps": 20},
    }
    (run / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (run / "loss.csv").write_text(
        "step,loss,lr,grad_norm,tokens\n"
        + "".join(f"{s},{3.0 - 0.1 * s:.3f},0.0002,1.0,{100 * s}\n" for s in range(1, 21)),
        encoding="utf-8",
    )
    stats = {"runtime_s": 12.5, "train_loss": 2.0, "global_step": 20, "tokens_seen": 2000}
    (run / "trainer_stats.json").write_text(json.dumps(stats), encoding="utf-8")
    return run
