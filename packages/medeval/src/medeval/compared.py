"""The two models every model-dependent number is given for (not meddata's dataset variants)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

MODELS = ("base", "finetuned")
"""A run's results are reported for the base model and the base with the adapter."""


@contextmanager
def as_model(model: Any, which: str) -> Iterator[None]:
    """`base` runs with the LoRA adapter switched off (a model without one is its own base),
    `finetuned` with it on."""
    off = which == "base" and hasattr(model, "disable_adapter")
    with model.disable_adapter() if off else nullcontext():
        yield
