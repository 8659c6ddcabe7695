"""Dataset variants → token ids with answer-only labels: what TRL's SFTTrainer batches and trains.

Invariants (tested per family with real token ids): the loss covers the answer and its closing
end-of-turn / eos only; there is exactly one BOS where the format has one; the pad token is never
a token that is trained on; an example too long for max_seq_length is dropped, never cut (a cut
answer would lose its stop token).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medtrain.chat import render, split_rendered
from medtrain.config import DataConfig
from medtrain.errors import UserError
from medtrain.locations import local_path

IGNORE = -100
"""Label of a position that is not trained on."""

PAD_CANDIDATES = (
    "<pad>",
    "<unk>",
    "<|finetune_right_pad_id|>",
    "<|reserved_special_token_0|>",
    "<|endoftext|>",
)
"""Tokens tried as padding, in order, when the tokenizer's pad is missing or trained on."""


def load_split(dataset: str, split: str) -> Any:
    """One split of a variant: a local folder (data/processed/<variant>) or a Hub dataset id."""
    import datasets

    name = Path(dataset)
    local = local_path(
        dataset, f"build it with `meddata build --variants {name.name} --out {name.parent}`"
    )
    try:
        return datasets.load_dataset(str(local or dataset), split=split)
    except ValueError as err:
        raise UserError(f"dataset {dataset} has no split '{split}': {err}") from None
    except Exception as err:  # the Hub raises many kinds; one line is what the user needs
        raise UserError(f"cannot load dataset {dataset}: {type(err).__name__}: {err}") from None


def trained_token_ids(tokenizer: Any) -> set[int]:
    """Ids a rendered answer's closing text uses (eos, end-of-turn), found by rendering one."""
    messages = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
    ]
    _, completion = render(tokenizer, messages)
    ids = set(tokenizer(completion, add_special_tokens=False)["input_ids"])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids


def ensure_pad(tokenizer: Any) -> bool:
    """Give the tokenizer a pad token that is never trained on; True if a token was added."""
    trained = trained_token_ids(tokenizer)
    if tokenizer.pad_token_id is not None and tokenizer.pad_token_id not in trained:
        return False
    vocab = tokenizer.get_vocab()
    for token in PAD_CANDIDATES:
        if token in vocab and vocab[token] not in trained:
            tokenizer.pad_token = token
            return False
    tokenizer.add_special_tokens({"pad_token": "<|medtrain_pad|>"})
    return True


def _adds_bos(tokenizer: Any, text: str) -> bool:
    bos = tokenizer.bos_token
    if bos is None or text.startswith(bos):
        return False
    ids = tokenizer("a", add_special_tokens=True)["input_ids"]
    return bool(ids) and ids[0] == tokenizer.bos_token_id


def tokenize(tokenizer: Any, prompt: str, completion: str) -> dict[str, list[int]]:
    """input_ids and labels, the labels covering every token that holds answer text."""
    text = prompt + completion
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids: list[int] = list(enc["input_ids"])
    labels = [
        tid if end > len(prompt) else IGNORE
        for tid, (_, end) in zip(ids, enc["offset_mapping"], strict=True)
    ]
    if _adds_bos(tokenizer, text):
        ids, labels = [tokenizer.bos_token_id, *ids], [IGNORE, *labels]
    return {"input_ids": ids, "labels": labels}


def example_text(tokenizer: Any, row: dict[str, Any], text_field: str) -> tuple[str, str]:
    if text_field == "prompt":
        return split_rendered(tokenizer, row["messages"], row["prompt"])
    return render(tokenizer, row["messages"])


@dataclass
class Prepared:
    """A tokenized split and what was dropped from it."""

    dataset: Any
    dropped_overlong: int


def prepare(
    tokenizer: Any, data: DataConfig, split: str, max_length: int, limit: int | None, seed: int
) -> Prepared:
    """Load, (shuffle and) cut a split to `limit` rows, render and tokenize it."""
    ds = load_split(data.dataset, split)
    if "messages" not in ds.column_names or (
        data.text_field == "prompt" and "prompt" not in ds.column_names
    ):
        raise UserError(
            f"dataset {data.dataset} ({split}) lacks the `messages`/`prompt` columns of a variant"
        )
    if limit is not None and limit < len(ds):
        ds = ds.shuffle(seed=seed).select(range(limit))

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        prompt, completion = example_text(tokenizer, row, data.text_field)
        enc = tokenize(tokenizer, prompt, completion)
        return {**enc, "length": len(enc["input_ids"])}

    tokenized = ds.map(encode, remove_columns=ds.column_names, desc=f"tokenizing {split}")
    kept = tokenized.filter(lambda row: row["length"] <= max_length)
    return Prepared(kept, len(tokenized) - len(kept))


def length_grouped(dataset: Any, batch_size: int, seed: int) -> Any:
    """The rows in transformers' length-grouped order (similar lengths share a batch: less padding),
    drawn once from a generator of its own: a run resumed from a checkpoint, which restores the
    global RNG, reads the rows in the same order (train with the `sequential` sampler)."""
    import torch
    from transformers.trainer_pt_utils import get_length_grouped_indices

    generator = torch.Generator().manual_seed(seed)
    order = get_length_grouped_indices(dataset["length"], batch_size, generator=generator)
    return dataset.select(order)
