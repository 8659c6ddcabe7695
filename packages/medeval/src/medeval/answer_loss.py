"""Answer-only loss: mean negative log-likelihood of the reference answer given the prompt."""

from __future__ import annotations

import math
from typing import Any

from medeval.chat import encode, render_answer
from medeval.loglik import score_pairs
from medeval.progress import progress_bar
from medeval.testset import Example


def answer_loss(
    model: Any, tokenizer: Any, examples: list[Example], label: str, batch_size: int = 8
) -> dict[str, float | int]:
    """Token-weighted mean NLL over all answers (end-of-turn token included) and its exp."""
    pairs = []
    for example in examples:
        prompt, answer = render_answer(tokenizer, example.messages)
        pairs.append((encode(tokenizer, prompt), encode(tokenizer, answer)))
    with progress_bar(label, len(pairs)) as advance:
        scores = score_pairs(model, pairs, batch_size, on_batch=advance)
    tokens = sum(s.n_tokens for s in scores)
    loss = -sum(s.logprob for s in scores) / tokens
    return {
        "answer_loss": loss,
        "perplexity": math.exp(loss),
        "n": len(examples),
        "answer_tokens": tokens,
    }
