"""Held-out answer loss: the one definition (docs/schemas.md §3, `answer_loss.jsonl`).

medtrain computes it, before and after training, and writes it per row; medeval only reads that
file (the packages share files, not code), so the report and the model card can never disagree.

- Rows: the test split ordered by sha256 of each row's `id`, the first `data.max_eval_samples`.
  The order does not depend on the training seed, the training length limit or any library's
  shuffle, so every run on the same split scores the same rows, and a larger N extends a smaller.
- Tokens: the assistant turn as the chat template renders it, up to and including the token that
  closes it (end-of-turn or eos); the whitespace the template writes after that token (ChatML's
  and Gemma's "\\n") is not scored: generation stops at the closing token, so the model never
  produces it, and families without it (Mistral, Llama 3) would otherwise count one token less.
- Statistic: token-weighted mean negative log-likelihood (nats per answer token).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medtrain.chat import render
from medtrain.data import IGNORE, Prepared, load_split, tokenize
from medtrain.errors import UserError

FILE = "answer_loss.jsonl"
"""Per-row results in the run folder (what medeval reads)."""


@dataclass(frozen=True)
class Row:
    """One held-out conversation, tokenized for scoring."""

    id: str
    """The dataset row id."""
    input_ids: list[int]
    """Prompt and scored answer tokens (BOS included where the format has one)."""
    labels: list[int]
    """IGNORE on the prompt, the token id on every scored token."""

    @property
    def tokens(self) -> int:
        """Number of scored tokens."""
        return sum(label != IGNORE for label in self.labels)


def scored_split(tokenizer: Any, messages: list[dict[str, str]]) -> tuple[str, str]:
    """(prompt, answer): the rendered assistant turn through its closing special token."""
    prompt, completion = render(tokenizer, messages)
    answer = completion.rstrip()
    ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    closing = tokenizer.added_tokens_decoder.get(ids[-1]) if ids else None
    if closing is None or not closing.special:
        raise UserError(
            "the chat template does not close the assistant turn with a special token "
            f"(it ends {completion[-20:]!r}); the answer loss needs the turn's stop token: "
            "set model.chat_template to a template that ends turns with eos or an end-of-turn"
        )
    return prompt, answer


def heldout_order(ids: list[str]) -> list[int]:
    """Row indices ordered by sha256 of the row id."""
    return sorted(range(len(ids)), key=lambda i: hashlib.sha256(ids[i].encode()).hexdigest())


def heldout_rows(tokenizer: Any, dataset: str, split: str, limit: int | None) -> list[Row]:
    """The first `limit` rows of `split` in held-out order, tokenized for scoring."""
    ds = load_split(dataset, split)
    if "id" not in ds.column_names or "messages" not in ds.column_names:
        raise UserError(f"dataset {dataset} ({split}) lacks the `id`/`messages` columns")
    ids = [str(i) for i in ds["id"]]
    chosen = heldout_order(ids)[:limit]
    rows = []
    for i in chosen:
        encoded = tokenize(tokenizer, *scored_split(tokenizer, ds[i]["messages"]))
        rows.append(Row(ids[i], encoded["input_ids"], encoded["labels"]))
    return rows


def prepared_rows(prepared: Prepared) -> list[Row]:
    """Rows from an already tokenized held-out set (gpu/check.py's random ids), ids by position."""
    return [
        Row(str(i), list(item["input_ids"]), list(item["labels"]))
        for i, item in enumerate(prepared.dataset)
    ]


@contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def score(model: Any, rows: list[Row], label: str) -> dict[str, float]:
    """Summed NLL (nats) of each row's scored tokens, one row per forward pass.

    Not Trainer.evaluate(): it averages per-batch mean losses (each batch weighs the same, not
    each token) and gives no per-row values for medeval's paired bootstrap.
    """
    import torch
    from tqdm.auto import tqdm

    device = next(model.parameters()).device
    nll: dict[str, float] = {}
    with _eval_mode(model), torch.no_grad():
        for row in tqdm(rows, desc=f"answer loss ({label})", unit="row"):
            out = model(
                input_ids=torch.tensor([row.input_ids], device=device),
                labels=torch.tensor([row.labels], device=device),
            )
            nll[row.id] = float(out.loss.float()) * row.tokens
    return nll


def mean_loss(rows: list[Row], nll: dict[str, float] | None) -> float | None:
    """Token-weighted mean NLL over the rows (None for a model that was not scored)."""
    if nll is None:
        return None
    return sum(nll[r.id] for r in rows) / sum(r.tokens for r in rows)


def write_rows(
    path: Path, rows: list[Row], base: dict[str, float] | None, finetuned: dict[str, float]
) -> None:
    """`answer_loss.jsonl`: id, scored tokens, summed NLL of the base (null where DeepSpeed
    could not score it) and the fine-tuned model."""
    with path.open("w", encoding="utf-8") as out:
        for r in rows:
            line = {
                "id": r.id,
                "tokens": r.tokens,
                "base": None if base is None else base[r.id],
                "finetuned": finetuned[r.id],
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")


def save_scores(path: Path, nll: dict[str, float] | None) -> None:
    """Keep the base scores in the checkpoint folder, for a resumed run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nll), encoding="utf-8")


def load_scores(path: Path) -> dict[str, float] | None:
    if not path.is_file():
        raise UserError(f"--resume: {path} is missing; start the run again without --resume")
    scores: dict[str, float] | None = json.loads(path.read_text(encoding="utf-8"))
    return scores
