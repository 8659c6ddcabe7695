"""How high the compute-bound fraction could rise with a faster attention kernel: medeval timed
again with torch's attention kernel answering at no cost, everything else of the forward as is.

This is a measurement device, not a scorer: its picks are meaningless. It bounds what any CPU
attention kernel could bring (zero time), and what one running at the matmul peak would bring
(zero time plus the attention's FLOPs at the peak)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import torch

from medeval.benchmarks import score_questions
from medeval.tasks import Question


def _free_attention(query: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
    """The attention's output shape ([batch, heads, queries, head_dim], the query's), no work."""
    return query


@contextmanager
def attention_free() -> Iterator[None]:
    """While inside, `torch.nn.functional.scaled_dot_product_attention` (the kernel transformers'
    "sdpa" attention calls) returns its query: the model still runs every product, norm and copy.
    A model that never called it (another attention implementation) raises on leaving: its
    timing would hold the real attention."""
    with mock.patch.object(
        torch.nn.functional, "scaled_dot_product_attention", side_effect=_free_attention
    ) as kernel:
        yield
    if kernel.call_count == 0:
        raise RuntimeError(
            "attention_free: the model never called torch.nn.functional."
            "scaled_dot_product_attention, so its attention was not taken out; load it with "
            'attn_implementation="sdpa"'
        )


def ceiling(
    model: Any,
    tokenizer: Any,
    questions: list[Question],
    work: float,
    attention_work: float,
    peak: float,
    repeats: int = 1,
) -> dict[str, float]:
    """The fastest of `repeats` attention-free runs over `questions`, and the fraction of the
    compute bound (`work` FLOPs at `peak` FLOP/s) it and an at-peak attention would reach."""
    times = []
    with attention_free():
        for _ in range(repeats):
            start = time.perf_counter()
            score_questions(model, tokenizer, questions, "attention-free")
            times.append(time.perf_counter() - start)
    return fractions(work, min(times), attention_work, peak)


def fractions(
    work: float, free_seconds: float, attention_work: float, peak: float
) -> dict[str, float]:
    """`work` FLOPs at `peak` FLOP/s against the attention-free time, and against it plus
    `attention_work` FLOPs run at the peak."""
    at_peak = free_seconds + attention_work / peak
    return {
        "attention_free_seconds": free_seconds,
        "attention_gflop": attention_work / 1e9,
        "fraction_if_attention_free": work / free_seconds / peak,
        "fraction_if_attention_at_peak": work / at_peak / peak,
    }
