"""Log-likelihood of a continuation given a context: the lm-evaluation-harness scoring primitive.

Batches are left-padded so every continuation ends at the last position; only the logits of the
continuation positions are materialized (`logits_to_keep`): the vocab-sized tensor stays small.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch

TokenPair = tuple[list[int], list[int]]
"""(context token ids, continuation token ids)."""


@dataclass(frozen=True)
class Score:
    """How well a model predicts one continuation."""

    logprob: float
    """Sum of the log-probabilities of the continuation tokens."""
    n_tokens: int
    """Number of continuation tokens scored."""
    greedy: bool
    """Whether every continuation token is the model's argmax prediction."""


def _batch(rows: Sequence[list[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-pad token rows into one batch with matching position ids."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row)
        mask[i, width - len(row) :] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return {"input_ids": ids, "attention_mask": mask, "position_ids": positions}


def _chunks(
    rows: list[tuple[int, ...]], batch_size: int, max_batch_tokens: int
) -> Iterator[list[tuple[int, ...]]]:
    """Consecutive rows (sorted longest first) up to batch_size rows or max_batch_tokens padded."""
    chunk: list[tuple[int, ...]] = []
    for row in rows:
        if chunk and (
            len(chunk) == batch_size or (len(chunk) + 1) * len(chunk[0]) > max_batch_tokens
        ):
            yield chunk
            chunk = []
        chunk.append(row)
    if chunk:
        yield chunk


@torch.inference_mode()
def score_pairs(
    model: torch.nn.Module,
    pairs: Sequence[TokenPair],
    pad_id: int,
    batch_size: int = 8,
    max_length: int = 2048,
    on_batch: Callable[[int], None] | None = None,
    max_batch_tokens: int = 4096,
) -> list[Score]:
    """Score each continuation; results in input order.

    The model reads `context + continuation[:-1]` (oldest tokens dropped past max_length). Pairs
    that give the same input (one-token options after a shared context) share one forward pass,
    and inputs run longest first so a batch holds similar lengths; a batch holds at most
    `batch_size` rows and `max_batch_tokens` padded tokens, so long answers do not pad short ones.
    """
    for ctx, cont in pairs:
        if not cont or not ctx:
            raise ValueError("context and continuation must both be non-empty token lists")
    device = next(model.parameters()).device
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (ctx, cont) in enumerate(pairs):
        groups.setdefault(tuple((ctx + cont)[:-1][-max_length:]), []).append(i)
    scores: dict[int, Score] = {}
    for chunk in _chunks(sorted(groups, key=len, reverse=True), batch_size, max_batch_tokens):
        batch = {k: v.to(device) for k, v in _batch([list(r) for r in chunk], pad_id).items()}
        keep = max(len(pairs[i][1]) for row in chunk for i in groups[row])
        logits = model(**batch, logits_to_keep=keep).logits[:, -keep:]
        for b, row in enumerate(chunk):
            for i in groups[row]:
                cont = pairs[i][1]
                target = torch.tensor(cont, device=device)
                window = logits[b, keep - len(cont) :].float()
                token_lp = window.gather(-1, target[:, None]).squeeze(-1) - window.logsumexp(-1)
                greedy = bool((window.argmax(-1) == target).all())
                scores[i] = Score(float(token_lp.sum()), len(cont), greedy)
        if on_batch is not None:
            on_batch(sum(len(groups[row]) for row in chunk))
    return [scores[i] for i in range(len(pairs))]
