"""Attention over a packed row one example at a time while LoRA trains on a CPU.

A packed row holds several examples (`data.packing`, `data.padding_free`) whose position ids
restart at each example. transformers' SDPA attention keeps them apart with a block-diagonal mask
over the whole row, and with a mask torch's CPU attention kernel computes every query against
every key of the row, then masks: a 512-token row of three examples computes about six times the
pairs its examples see, in forward and again in backward. Attending each example on its own,
causally, computes only its own pairs and gives the same output: `smollm2-cpu` trains 8-12% more
tokens a second (attention and its backward fall from 15% to 8% of a step; medtrain's README).
It is registered with transformers' `AttentionInterface` (the supported way to add an attention
function) and wraps transformers' own SDPA function; anything it does not split (a padded batch,
a row of one example, an example longer than a layer's sliding window) goes to that function
unchanged, with the mask.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from typing import Any

import torch

NAME = "medtrain_per_example_sdpa"
"""The attention implementation's name in transformers' registry."""


def example_sizes(position_ids: torch.Tensor | None) -> list[int] | None:
    """Lengths of the examples of a one-row batch, cut where the position ids do not go on by
    one (transformers' own rule for packed rows); None for a batch it does not split. Each layer
    recomputes them from the same ids: 27 us a call, 1.6 ms of a 512-token row's 2.4 s step on
    smollm2-cpu (30 layers, forward and checkpointed recompute), too little to cache."""
    if position_ids is None or position_ids.shape[0] != 1 or position_ids.shape[1] < 2:
        return None
    positions = position_ids[0]
    starts = (torch.nonzero(positions[1:] - positions[:-1] != 1).flatten() + 1).tolist()
    if not starts:
        return None
    bounds = [0, *starts, positions.shape[0]]
    return [end - start for start, end in pairwise(bounds)]


def per_example_sdpa(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    position_ids: torch.Tensor | None = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' SDPA attention, run causally on each example of a packed row."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    sizes = example_sizes(position_ids) if query.shape[2] == key.shape[2] else None
    window = kwargs.get("sliding_window", getattr(module, "sliding_window", None))  # Mistral: kwarg
    if sizes is None or (window is not None and max(sizes) > window):
        out: tuple[torch.Tensor, None] = sdpa_attention_forward(
            module, query, key, value, attention_mask, **kwargs
        )
        return out
    kwargs["is_causal"] = True
    parts = [
        sdpa_attention_forward(module, q, k, v, None, **kwargs)[0]
        for q, k, v in zip(
            query.split(sizes, 2), key.split(sizes, 2), value.split(sizes, 2), strict=True
        )
    ]
    return torch.cat(parts, dim=1), None  # [batch, tokens, heads, head_dim], as SDPA returns


def _register() -> None:
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(NAME, per_example_sdpa)
    AttentionMaskInterface.register(NAME, sdpa_mask)  # SDPA's masks, for what it passes on


@contextmanager
def per_example_attention(model: Any) -> Iterator[bool]:
    """Inside the block, a CPU model whose attention is transformers' SDPA attends each example of
    a packed row on its own; yields whether it switched (not on a GPU, where this is unmeasured,
    nor for another attention implementation, e.g. Gemma-2's eager one for its soft-capping)."""
    config = model.config
    on_cpu = all(p.device.type == "cpu" for p in model.parameters())
    if not on_cpu or config._attn_implementation != "sdpa":
        yield False
        return
    _register()
    model.set_attn_implementation(NAME)
    try:
        yield True
    finally:
        model.set_attn_implementation("sdpa")
