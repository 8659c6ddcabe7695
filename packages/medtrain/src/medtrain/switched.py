"""Chosen modules given another forward inside a block, and their own back however it ends.

medtrain's CPU training paths (`cpu_linear`, `fused_lora`) each swap some layers' forward for the
length of a run; this is their one switch-and-restore, so an exception, or a forward that fails
to build halfway through, never leaves a model half switched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch


@contextmanager
def switched_forwards(
    modules: Iterable[torch.nn.Module], make_forward: Callable[[Any], Callable[..., torch.Tensor]]
) -> Iterator[int]:
    """Each module's forward is `make_forward(module)` inside the block (an instance attribute
    over its class's method); yields how many were switched."""
    switched: list[torch.nn.Module] = []
    try:
        for module in modules:
            module.forward = make_forward(module)
            switched.append(module)
        yield len(switched)
    finally:
        for module in switched:
            del module.forward
