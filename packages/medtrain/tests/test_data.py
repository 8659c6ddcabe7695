"""Token-level invariants on every family's format, with the real special-token ids."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from medtrain.chat import render
from medtrain.config import DataConfig
from medtrain.data import IGNORE, ensure_pad, load_split, prepare, tokenize
from medtrain.errors import UserError
from testsupport.schemas import validate_variant
from testsupport.templates import SYSTEM

MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "What causes gout?"},
    {"role": "assistant", "content": "Uric acid crystals in the joints."},
]
# family: (bos id, id that closes the answer turn, pad id chosen)
REAL_IDS = {
    "mistral": (1, 2, 0),  # <s>, </s>, <unk>
    "llama": (1, 2, 0),  # <s>, </s>, <unk>
    "gemma": (2, 107, 0),  # <bos>, <end_of_turn>, <pad>
    "llama3": (128000, 128009, 128002),  # <|begin_of_text|>, <|eot_id|>, <|reserved_..._0|>
    "llama3.1": (128000, 128009, 128004),  # ..., <|eot_id|>, <|finetune_right_pad_id|>
    "qwen2.5": (None, 151645, 151643),  # no bos, <|im_end|>, <|endoftext|>
    "gemma2": (2, 107, 0),  # <bos>, <end_of_turn>, <pad>
    "mistral-v0.3": (1, 2, 0),  # <s>, </s>, <unk> (tokenizer v3: [INST]=3, [/INST]=4)
}  # fmt: skip


@pytest.fixture(params=list(REAL_IDS))
def family(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def encoded(tok: Any) -> dict[str, list[int]]:
    return tokenize(tok, *render(tok, MESSAGES))


def test_exactly_one_bos_first(family: str, family_tokenizer: Callable[[str], Any]) -> None:
    tok = family_tokenizer(family)
    ids = encoded(tok)["input_ids"]
    bos = REAL_IDS[family][0]
    assert tok.bos_token_id == bos
    if bos is None:  # Qwen has no BOS: the text starts with the system turn
        assert ids[0] == tok.convert_tokens_to_ids("<|im_start|>")
        assert tok.convert_tokens_to_ids("<|endoftext|>") not in ids
    else:
        assert ids[0] == bos and ids.count(bos) == 1


def test_labels_are_the_answer_and_its_end_of_turn(
    family: str, family_tokenizer: Callable[[str], Any]
) -> None:
    tok = family_tokenizer(family)
    enc = encoded(tok)
    trained = [t for t, lab in zip(enc["input_ids"], enc["labels"], strict=True) if lab != IGNORE]
    assert trained == [lab for lab in enc["labels"] if lab != IGNORE]
    first = enc["labels"].index(next(lab for lab in enc["labels"] if lab != IGNORE))
    assert all(lab == IGNORE for lab in enc["labels"][:first])
    assert all(lab != IGNORE for lab in enc["labels"][first:])
    assert tok.decode(trained, skip_special_tokens=True).strip() == MESSAGES[2]["content"]
    assert REAL_IDS[family][1] in trained
    assert "INST" not in tok.decode(trained) and "user" not in tok.decode(trained)


def test_pad_is_never_a_trained_token(family: str, family_tokenizer: Callable[[str], Any]) -> None:
    tok = family_tokenizer(family)
    assert not ensure_pad(tok)
    enc = encoded(tok)
    assert tok.pad_token_id == REAL_IDS[family][2]
    assert tok.pad_token_id not in [lab for lab in enc["labels"] if lab != IGNORE]
    assert tok.pad_token_id != tok.eos_token_id


def test_pad_that_equals_eos_is_replaced(family_tokenizer: Callable[[str], Any]) -> None:
    tok = family_tokenizer("mistral")
    tok.pad_token = tok.eos_token
    ensure_pad(tok)
    assert tok.pad_token == "<unk>"


def test_prepare_drops_overlong_and_keeps_row_order_seeded(
    variant: Path, family_tokenizer: Callable[[str], Any]
) -> None:
    validate_variant(variant)  # what this test reads is what schemas/ says meddata writes
    tok = family_tokenizer("mistral")
    data = DataConfig(dataset=str(variant))
    full = prepare(tok, data, "train", 2048, None, 42)
    assert full.dropped_overlong == 0 and len(full.dataset) == 48
    cut = sorted(full.dataset["length"])[24]
    short = prepare(tok, data, "train", cut, None, 42)
    assert short.dropped_overlong == sum(n > cut for n in full.dataset["length"]) > 0
    assert max(short.dataset["length"]) <= cut
    again = prepare(tok, data, "train", 2048, 10, 42)
    assert (
        again.dataset["input_ids"] == prepare(tok, data, "train", 2048, 10, 42).dataset["input_ids"]
    )
    via_prompt = prepare(
        tok, DataConfig(dataset=str(variant), text_field="prompt"), "train", 2048, None, 42
    )
    assert via_prompt.dataset["labels"] == full.dataset["labels"]


def test_missing_dataset_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="meddata build --variants nope"):
        load_split(str(tmp_path / "nope"), "train")
    with pytest.raises(UserError, match="data/processed/v does not exist and is not a Hub id"):
        load_split("data/processed/v", "train")


def test_padding_free_examples_do_not_attend_to_each_other(tiny_model: Path) -> None:
    """TRL's padding-free batches (one row, per-example position ids) keep attention per example
    with transformers' own attention (TRL documents padding-free for FlashAttention only)."""
    import torch
    from transformers import AutoModelForCausalLM
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    rows = [
        {"input_ids": [1, 733, 16289, 28793, 11677], "labels": [IGNORE] * 5},
        {"input_ids": [1, 5365, 733, 28748, 16289, 28793, 3614], "labels": [IGNORE] * 7},
    ]
    packed = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)(rows)
    assert packed["position_ids"].tolist() == [[0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]]
    assert "attention_mask" not in packed
    packed.pop("labels")
    with torch.no_grad():
        together = model(**packed, use_cache=False).logits[0]
        alone = [model(torch.tensor([r["input_ids"]])).logits[0] for r in rows]
    assert torch.allclose(together, torch.cat(alone), atol=1e-5)
