"""Rows and tokens per epoch of a recipe's dataset, read from the built variant's parquet files.

Tokens are exact where the tokenizer loads without weights (a local folder, the Hub, or the GGUF
fallback's vocabulary); otherwise the plan works from max_seq_length and says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medtrain.config import RecipeConfig
from medtrain.errors import UserError


@dataclass(frozen=True)
class DataStats:
    """What one epoch of the training split holds."""

    rows: int | None
    """Rows that fit max_seq_length (None: the variant is not built here)."""
    dropped: int
    """Rows longer than max_seq_length (dropped, never cut)."""
    tokens: int | None
    """Tokens of the kept rows (None: no tokenizer here)."""
    trained: int | None
    """Of those, tokens with a label (the answers and their end-of-turn)."""
    longest: int | None
    """Tokens of the longest kept row."""
    batch_longest: int | None
    """Tokens of the `per_device_train_batch_size` longest kept rows together (a packed row)."""
    note: str
    """Where the numbers come from, or how to get them."""


def split_files(dataset: str, split: str) -> list[Path]:
    return sorted((Path(dataset) / "data").glob(f"{split}-*.parquet"))


def plan_tokenizer(recipe: RecipeConfig) -> Any:
    """The recipe's tokenizer with its chat template and pad token, or None where it needs the
    unreachable Hub. Never reads model weights."""
    from transformers import AutoTokenizer

    from medtrain.chat import set_template
    from medtrain.data import ensure_pad
    from medtrain.models import cache_dir, gguf_source, hub_reachable

    model = recipe.model
    local = next((p for p in (model.resolved_path, model.base) if p and Path(p).is_dir()), None)
    if local:
        tokenizer = AutoTokenizer.from_pretrained(local)
    elif hub_reachable():
        try:
            tokenizer = AutoTokenizer.from_pretrained(model.base)
        except OSError:  # gated or missing: the plan goes on without token counts
            return None
    elif model.gguf_fallback:
        source = gguf_source(model.gguf_fallback)
        converted = cache_dir() / source.stem
        if (converted / "tokenizer.json").is_file():
            tokenizer = AutoTokenizer.from_pretrained(converted)
        else:
            tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    else:
        return None
    set_template(tokenizer, model.chat_template)
    ensure_pad(tokenizer)
    return tokenizer


def read_rows(dataset: str, split: str) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    files = split_files(dataset, split)
    if not files:
        raise UserError(f"dataset {dataset} has no '{split}' parquet files under data/")
    return [row for f in files for row in pq.read_table(f).to_pylist()]


def not_built(recipe: RecipeConfig) -> str:
    folder = Path(recipe.data.dataset)
    return (
        f"{folder} is not built here; build it with `meddata build --variants {folder.name} "
        f"--out {folder.parent}` (the plan assumes rows of max_seq_length)"
    )


def dataset_stats(recipe: RecipeConfig, tokenize_rows: bool = True) -> DataStats:
    """Tokenize the training split the way training does (same rendering and label mask)."""
    from medtrain.data import IGNORE, example_text, tokenize

    data, max_len = recipe.data, recipe.model.max_seq_length
    if not split_files(data.dataset, data.train_split):
        return DataStats(None, 0, None, None, None, None, not_built(recipe))
    tokenizer = plan_tokenizer(recipe) if tokenize_rows else None
    rows = read_rows(data.dataset, data.train_split)
    if data.max_train_samples is not None:
        rows = rows[: data.max_train_samples]
    if tokenizer is None:
        note = f"{len(rows)} rows; no tokenizer without the Hub, so tokens are not counted"
        return DataStats(len(rows), 0, None, None, None, None, note)
    lengths, trained = [], 0
    for row in rows:
        enc = tokenize(tokenizer, *example_text(tokenizer, row, data.text_field))
        if len(enc["input_ids"]) <= max_len:
            lengths.append(len(enc["input_ids"]))
            trained += sum(1 for label in enc["labels"] if label != IGNORE)
    lengths.sort(reverse=True)
    batch = recipe.training.per_device_train_batch_size
    note = f"tokenized {len(rows)} rows of {data.dataset} ({data.train_split})"
    return DataStats(
        rows=len(lengths),
        dropped=len(rows) - len(lengths),
        tokens=sum(lengths),
        trained=trained,
        longest=lengths[0] if lengths else None,
        batch_longest=sum(lengths[:batch]) if lengths else None,
        note=note,
    )


def optimizer_steps(recipe: RecipeConfig, rows: int | None, world: int = 1) -> int | None:
    """Steps the Trainer takes: max_steps, else epochs x ceil(batches per epoch / accumulation)."""
    t = recipe.training
    if t.max_steps > 0:
        return t.max_steps
    if rows is None:
        return None
    batches = math.ceil(rows / (t.per_device_train_batch_size * world))
    return math.ceil(t.num_train_epochs * math.ceil(batches / t.gradient_accumulation_steps))
