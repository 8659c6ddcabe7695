"""How many of a model's layers medeval's and medtrain's `cpu_linear` have switched to oneDNN
(each switch is a `forward` set on the module itself), and how many were switched while the
model ran."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def switched(model: Any) -> int:
    """Modules of `model` running a `forward` of their own instance, not their class's."""
    return sum("forward" in vars(m) for m in model.modules())


@contextmanager
def switched_at_each_head_call(model: Any) -> Iterator[list[int]]:
    """Inside the block, `switched(model)` is recorded each time the output head runs."""
    seen: list[int] = []
    hook = model.get_output_embeddings().register_forward_pre_hook(
        lambda *_: seen.append(switched(model))
    )
    try:
        yield seen
    finally:
        hook.remove()
