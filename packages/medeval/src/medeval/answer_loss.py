"""Held-out answer loss, read from the run folder: medtrain computes it (docs/schemas.md §3).

The definition (rows, scored tokens, token weighting) is implemented once, in medtrain, which
scores the base and the fine-tuned model on the same rows in the precision it trained in and
writes `answer_loss.jsonl`. medeval never recomputes it, so the report and the model card show
one number; here it is only summed up and handed to the bootstrap.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from medeval.bootstrap import Items
from medeval.errors import EvalInputError

FILE = "answer_loss.jsonl"
"""Per-row answer loss in the run folder, written by medtrain."""


@dataclass(frozen=True)
class LossRow:
    """One held-out row: its scored tokens and both models' summed NLL over them."""

    id: str
    """The dataset row id."""
    tokens: int
    """Answer tokens scored (the turn through its closing token)."""
    base: float | None
    """Summed negative log-likelihood (nats) under the base model; None in DeepSpeed runs
    trained before medtrain scored the base there."""
    finetuned: float
    """The same under the fine-tuned model."""


def read_rows(run_path: Path) -> list[LossRow] | None:
    """The run's rows, or None for a run trained before medtrain wrote them."""
    path = run_path / FILE
    if not path.is_file():
        return None
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            rows.append(
                LossRow(str(item["id"]), int(item["tokens"]), item["base"], item["finetuned"])
            )
        except (ValueError, KeyError, TypeError) as err:
            raise EvalInputError(
                f"{path}:{number}: not an answer-loss row ({err}); rerun medtrain"
            ) from None
    if not rows or any(r.tokens <= 0 for r in rows):
        raise EvalInputError(f"{path}: no rows, or a row without scored tokens; rerun medtrain")
    return rows


def scored(rows: list[LossRow], which: str) -> bool:
    """Whether every row has a value for `which` model (`base` or `finetuned`)."""
    return all(getattr(r, which) is not None for r in rows)


def summary(rows: list[LossRow], which: str) -> dict[str, float | int]:
    """Token-weighted mean NLL of one model, its perplexity, rows and tokens (empty when that
    model was not scored)."""
    if not scored(rows, which):
        return {}
    tokens = sum(r.tokens for r in rows)
    loss = sum(getattr(r, which) for r in rows) / tokens
    return {
        "answer_loss": loss,
        "perplexity": math.exp(loss),
        "n": len(rows),
        "answer_tokens": tokens,
    }


def items(rows: list[LossRow]) -> Items | None:
    """Rows for the paired bootstrap: summed NLL over token weights (a token-weighted mean);
    None when the base was not scored (nothing to pair)."""
    if not scored(rows, "base"):
        return None
    return Items(
        base=[r.base for r in rows if r.base is not None],
        finetuned=[r.finetuned for r in rows],
        weights=[r.tokens for r in rows],
    )
