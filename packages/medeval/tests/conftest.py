"""A fake training run (docs/schemas.md §3): a tiny random-weight llama, a byte tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import torch
import yaml
from peft import LoraConfig, get_peft_model
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
SYSTEM = "Answer the question truthfully, you are a medical professional."
QA = [
    ("What is asthma?", "A chronic disease of the airways."),
    ("What causes anemia?", "Low iron, blood loss or marrow disease."),
    ("How is diabetes treated?", "With insulin, diet and exercise."),
    ("What is a fever?", "A body temperature above normal."),
    ("Is smoking harmful?", "Yes, it damages the lungs and heart."),
    ("What does the liver do?", "It filters blood and makes bile."),
]


def byte_tokenizer() -> PreTrainedTokenizerFast:
    """Byte-level BPE without merges: every byte is a token, plus ChatML's special tokens."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {tok: i for i, tok in enumerate(SPECIAL + sorted(alphabet))}
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token="<|im_start|>",
        additional_special_tokens=SPECIAL,
    )
    tokenizer.chat_template = CHATML
    return tokenizer


def tiny_model(vocab_size: int) -> LlamaForCausalLM:
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    return LlamaForCausalLM(config).eval()


def write_variant(folder: Path) -> None:
    rows = [
        {
            "id": f"medquad:{i}",
            "instruction": SYSTEM,
            "input": q,
            "output": a,
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": q},
                {"role": "assistant", "content": a},
            ],
        }
        for i, (q, a) in enumerate(QA)
    ]
    (folder / "data").mkdir(parents=True)
    pl.DataFrame(rows[:2]).write_parquet(folder / "data" / "train-00000-of-00001.parquet")
    pl.DataFrame(rows).write_parquet(folder / "data" / "test-00000-of-00001.parquet")


def write_run(root: Path, name: str = "tiny-cpu-20260101-000000") -> Path:
    """Base model in root/base, dataset in root/variant, run folder in root/runs/<name>."""
    tokenizer = byte_tokenizer()
    base_dir, variant, run = root / "base", root / "variant", root / "runs" / name
    if not base_dir.exists():
        tiny_model(len(tokenizer)).save_pretrained(base_dir)
        tokenizer.save_pretrained(base_dir)
        write_variant(variant)
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


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny")


@pytest.fixture(scope="session")
def tiny_run(tiny_root: Path) -> Path:
    """A finished training run (read-only for tests: copy it before writing eval/)."""
    return write_run(tiny_root)
