"""Zero-shot multiple choice by option log-likelihood (lm-evaluation-harness protocol).

Each option is scored as the summed log-probability of its continuation tokens after the
context; acc = argmax of that sum, acc_norm = argmax of the sum per option byte,
stderr = sqrt(p(1-p)/(n-1)). Tokenization is the harness's (`encode_question`).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from medeval.loglik import Score, TokenPair, score_pairs
from medeval.progress import progress_bar
from medeval.tasks import Question


@dataclass(frozen=True)
class ItemResult:
    """One item's scores: a line of eval/benchmarks/<task>.jsonl (per model compared)."""

    logprobs: list[float]
    """Summed log-probability of each choice's continuation, in choice order."""
    pred: int
    """The choice with the highest log-probability (acc's pick)."""
    pred_norm: int
    """The choice with the highest log-probability per byte (acc_norm's pick)."""


def stratified_subset(
    questions: list[Question], limit: int | None, seed: int = 0
) -> list[Question]:
    """`limit` questions with the label mix of the whole set (largest remainder), seeded per label.

    The PubMedQA ground truth is sorted by label, so the first N would be all "yes".
    """
    if limit is None or limit >= len(questions):
        return questions
    by_label: dict[int, list[Question]] = {}
    for q in questions:
        by_label.setdefault(q.gold, []).append(q)
    quotas = {label: limit * len(qs) / len(questions) for label, qs in by_label.items()}
    counts = {label: int(quota) for label, quota in quotas.items()}
    by_remainder = sorted(quotas, key=lambda label: counts[label] - quotas[label])
    for label in by_remainder[: limit - sum(counts.values())]:
        counts[label] += 1
    rng = random.Random(seed)
    chosen = {q.id for label, qs in by_label.items() for q in rng.sample(qs, counts[label])}
    return [q for q in questions if q.id in chosen]


def _encode(tokenizer: Any, text: str) -> list[int]:
    """The harness's `tok_encode`: the tokenizer's default special tokens, unless the text
    already starts with the prefix token (BOS, else EOS)."""
    prefix_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else None
    prefix_id = prefix_id if prefix_id is not None else tokenizer.eos_token_id
    starts = prefix_id is not None and text.startswith(tokenizer.decode(prefix_id))
    ids: list[int] = tokenizer.encode(text, add_special_tokens=not starts)
    return ids


def encode_question(tokenizer: Any, question: Question) -> list[TokenPair]:
    """The harness's `_encode_pair`: trailing spaces of the context move to the continuation;
    continuation ids = ids(context + continuation) minus the first len(ids(context))."""
    context = question.context.rstrip()
    moved = question.context[len(context) :]
    context_ids = _encode(tokenizer, context)
    pairs = []
    for choice in question.choices:
        whole = _encode(tokenizer, context + moved + choice)
        pairs.append((context_ids, whole[len(context_ids) :]))
    return pairs


def stderr(p: float, n: int) -> float:
    """Standard error of a mean of n 0/1 outcomes (sample standard deviation)."""
    return math.sqrt(p * (1 - p) / (n - 1)) if n > 1 else 0.0


def _argmax(values: list[float]) -> int:
    """The first index of the largest value (the harness's np.argmax)."""
    return values.index(max(values))


def item_result(question: Question, scores: list[Score]) -> ItemResult:
    logprobs = [s.logprob for s in scores]
    per_byte = [lp / len(c.encode()) for lp, c in zip(logprobs, question.choices, strict=True)]
    return ItemResult(logprobs, _argmax(logprobs), _argmax(per_byte))


def accuracy(questions: list[Question], results: list[ItemResult]) -> dict[str, float | int]:
    """acc (summed log-prob) and acc_norm (log-prob per option byte), with standard errors."""
    n = len(questions)
    acc = sum(r.pred == q.gold for q, r in zip(questions, results, strict=True)) / n
    acc_norm = sum(r.pred_norm == q.gold for q, r in zip(questions, results, strict=True)) / n
    return {
        "acc": acc,
        "stderr": stderr(acc, n),
        "acc_norm": acc_norm,
        "acc_norm_stderr": stderr(acc_norm, n),
        "n": n,
    }


BATCH_TOKENS = {"cpu": 1024, "cuda": 16384}
"""Padded tokens per forward pass: on a CPU small enough that a batch's activations stay in
cache (measured in `nox -s eval_parity`), on a GPU enough to fill it."""


def score_questions(
    model: Any, tokenizer: Any, questions: list[Question], label: str, batch_size: int = 64
) -> list[ItemResult]:
    """Score every option of every question; one progress bar over all options.

    Prompts longer than the model's context lose their oldest tokens (as the harness does).
    """
    max_length = int(getattr(model.config, "max_position_embeddings", 2048))
    encoded = [encode_question(tokenizer, q) for q in questions]
    pairs = [pair for question_pairs in encoded for pair in question_pairs]
    budget = BATCH_TOKENS.get(next(model.parameters()).device.type, BATCH_TOKENS["cpu"])
    with progress_bar(label, len(pairs)) as advance:
        flat = score_pairs(model, pairs, batch_size, max_length, advance, budget)
    results, at = [], 0
    for q in questions:
        results.append(item_result(q, flat[at : at + len(q.choices)]))
        at += len(q.choices)
    return results
