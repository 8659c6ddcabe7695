"""Greedy decoding without loops: ban the token that would repeat an n-gram of the answer itself.

Small models decoded greedily fall into loops ("The skin may be dry and itchy." twenty times), and a
loop decides ROUGE-L and token F1 more than the answer's content does. transformers'
`no_repeat_ngram_size` counts the prompt's n-grams too in a decoder-only model (its docstring says
so): an answer could then not repeat the question's multi-token terms ("Pseudohypoaldosteronism
type 2") or the system instruction's phrases. This processor looks at the generated tokens only.
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor


class NoRepeatInAnswer(LogitsProcessor):
    """Forbid each token that would complete an n-gram already present in the answer so far."""

    def __init__(self, ngram_size: int, prompt_width: int) -> None:
        if ngram_size < 1 or prompt_width < 0:
            raise ValueError(
                f"ngram_size must be >= 1 and prompt_width >= 0: {ngram_size}, {prompt_width}"
            )
        self.ngram_size = ngram_size
        self.prompt_width = prompt_width
        """Prompt tokens per row (the batch is left-padded to one width); answers start after."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.Tensor:
        answer = input_ids[:, self.prompt_width :]
        n, vocab = self.ngram_size, scores.shape[-1]
        if answer.shape[1] < n:
            return scores
        # Every earlier n-gram whose first n-1 tokens equal the answer's last n-1 tokens bans its
        # last token. (The answer's own last n-1 tokens begin no complete n-gram yet.)
        grams = answer.unfold(1, n, 1)
        last = answer[:, answer.shape[1] - n + 1 :].unsqueeze(1)
        hits = (grams[..., :-1] == last).all(-1)
        banned = torch.zeros((scores.shape[0], vocab + 1), dtype=torch.bool, device=scores.device)
        # a miss (or an id past the head) marks the spare last column, which is dropped
        banned.scatter_(1, torch.where(hits, grams[..., -1].clamp(max=vocab), vocab), True)
        return scores.masked_fill(banned[:, :vocab], float("-inf"))
