"""The model variants every model-dependent number is given for."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

VARIANTS = ("base", "finetuned")
"""A run's results are reported for the base model and the adapter."""


@contextmanager
def as_variant(model: Any, variant: str) -> Iterator[None]:
    """`base` runs with the LoRA adapter switched off (a model without one is its own base),
    `finetuned` with it on."""
    off = variant == "base" and hasattr(model, "disable_adapter")
    with model.disable_adapter() if off else nullcontext():
        yield
