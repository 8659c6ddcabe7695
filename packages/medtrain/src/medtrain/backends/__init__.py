"""Backends load the base model with LoRA adapters; the training loop itself is shared.

`hf`: transformers + peft (+ bitsandbytes 4-bit, on CUDA or the CPU). `unsloth`: FastLanguageModel.
Both take their dtypes from `medtrain.precision`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

from medtrain.config import Backend
from medtrain.errors import UserError


@dataclass
class Loaded:
    """A base model wrapped with trainable LoRA adapters, and its tokenizer."""

    model: Any
    tokenizer: Any
    resolved_path: str
    """What was actually loaded (the base id, a local folder, or a converted GGUF)."""
    backend: str
    """Name of the backend that loaded it."""


def unsloth_usable() -> bool:
    """unsloth is installed and can import here (it refuses some machines at import time)."""
    if importlib.util.find_spec("unsloth") is None:
        return False
    try:
        import unsloth  # noqa: F401
    except Exception:  # unsloth raises assorted errors on unsupported machines
        return False
    return True


def pick_backend(requested: Backend) -> str:
    if requested == "auto":
        return "unsloth" if unsloth_usable() else "hf"
    if requested == "unsloth" and not unsloth_usable():
        raise UserError(
            "training.backend=unsloth but unsloth is not installed or cannot import here; "
            "install medtrain[gpu] or use --set training.backend=hf"
        )
    return requested


def cast_trainable(model: Any, dtype: Any) -> None:
    """Put the trainable (LoRA) weights in `dtype`, the optimizer's master copy (precision.py)."""
    for param in model.parameters():
        if param.requires_grad and param.dtype != dtype:
            param.data = param.data.to(dtype)
