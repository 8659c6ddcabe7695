"""Simulated GPUs and the precision each must get: one table, checked by medtrain's tests (the
training precision) and medeval's (the inference dtype), so the two packages' rules agree.

`simulate()` makes torch answer like the real device, exactly where the libraries ask:
- transformers' `TrainingArguments._validate_args` calls `is_torch_bf16_gpu_available()` ->
  `torch.cuda.is_available()` and `torch.cuda.is_bf16_supported()`;
- its `_setup_devices` (building the arguments touches `self.device`) calls
  `torch.cuda.is_available()`, `torch.cuda.device_count()` and `torch.cuda.set_device()`;
- bitsandbytes' quantizer checks `get_available_devices()` -> `torch.cuda.is_available()`;
- the precision rules read `torch.cuda.get_device_capability()` and `get_device_name()`.
transformers caches several of these answers (`functools.lru_cache`): the caches are cleared
on the way in and out, and accelerate's process state is reset afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class SimulatedDevice:
    """A device as torch describes it."""

    name: str
    """torch.cuda.get_device_name() (or "cpu")."""
    capability: tuple[int, int] | None
    """CUDA compute capability; None for the CPU."""


DEVICES = {
    "cpu": SimulatedDevice("cpu", None),
    "t4": SimulatedDevice("Tesla T4", (7, 5)),
    "v100": SimulatedDevice("Tesla V100-SXM2-16GB", (7, 0)),
    "a10": SimulatedDevice("NVIDIA A10", (8, 6)),
    "a100": SimulatedDevice("NVIDIA A100-SXM4-80GB", (8, 0)),
    "l4": SimulatedDevice("NVIDIA L4", (8, 9)),
    "h100": SimulatedDevice("NVIDIA H100 80GB HBM3", (9, 0)),
}

EXPECTED = {
    "cpu": ("float32", False, False, "float32", "float32"),
    "t4": ("float16", False, True, "float16", "float32"),
    "v100": ("float16", False, True, "float16", "float32"),
    "a10": ("bfloat16", True, False, "bfloat16", "float32"),
    "a100": ("bfloat16", True, False, "bfloat16", "float32"),
    "l4": ("bfloat16", True, False, "bfloat16", "float32"),
    "h100": ("bfloat16", True, False, "bfloat16", "float32"),
}
"""device -> (compute dtype, TrainingArguments bf16, fp16, 4-bit compute dtype, LoRA dtype) of
`model.dtype: auto`; medeval's inference dtype is the compute dtype."""


def _clear_transformers_caches() -> None:
    from transformers.utils import get_available_devices, import_utils

    get_available_devices.cache_clear()
    for value in vars(import_utils).values():
        if callable(getattr(value, "cache_clear", None)):
            value.cache_clear()


@contextmanager
def simulated(device: str, emulated_bf16: bool = True) -> Iterator[None]:
    """Make torch report `device` (a DEVICES key) inside the block. Below compute capability
    8.0, real torch's `is_bf16_supported()` says True (bf16 tensors work, emulated) unless asked
    for native support only; `emulated_bf16=False` makes it say False outright."""
    from accelerate.state import AcceleratorState

    try:
        with pytest.MonkeyPatch.context() as patch:
            _patch_cuda(patch, DEVICES[device], emulated_bf16)
            _clear_transformers_caches()
            yield
    finally:  # after the patches are undone: forget what was cached under them
        _clear_transformers_caches()
        AcceleratorState._reset_state(reset_partial_state=True)


def _patch_cuda(patch: pytest.MonkeyPatch, spec: SimulatedDevice, emulated_bf16: bool) -> None:
    import torch

    if spec.capability is None:
        return
    capability, major = spec.capability, spec.capability[0]

    def bf16_supported(including_emulation: bool = True) -> bool:
        return major >= 8 or (including_emulation and emulated_bf16)

    patch.setattr(torch.cuda, "is_available", lambda: True)
    patch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    patch.setattr(torch.cuda, "get_device_name", lambda device=None: spec.name)
    patch.setattr(torch.cuda, "is_bf16_supported", bf16_supported)
    patch.setattr(torch.cuda, "device_count", lambda: 1)
    patch.setattr(torch.cuda, "set_device", lambda device: None)
    patch.setattr(torch.cuda, "current_device", lambda: 0)
