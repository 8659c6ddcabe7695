"""Numeric precision, decided from the device in one place.

Model loading, the training flags, both backends and `medtrain export` all ask `resolve()`.

- CPU: float32 throughout.
- CUDA below compute capability 8.0 (T4 sm75, V100 sm70): no native bfloat16 (torch emulates it,
  slowly), so float16 weights with fp16 mixed precision; the trainable LoRA weights stay float32,
  because the fp16 loss scaler refuses to unscale float16 gradients.
- 8.0 and up (A10 sm86, A100 sm80, L4 sm89, H100 sm90): bfloat16 weights and bf16 mixed precision.

LoRA weights are float32 on every device: they are the optimizer's master copy, and a bf16 update
of 2e-4 x a weight is below bf16's resolution (8 bits of mantissa); peft does the same by default
(`autocast_adapter_dtype`). A recipe's explicit `model.dtype` wins where the device runs it, and is
an error before anything is loaded where it does not (bfloat16 on a T4, float16 on the CPU).

medeval implements the same rule for inference (the packages do not import each other);
testsupport/precision.py holds the one table both packages' tests check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from medtrain.errors import UserError

Dtype = Literal["float32", "bfloat16", "float16"]
Requested = Literal["auto", "float32", "bfloat16", "float16"]

BF16_CAPABILITY = (8, 0)
"""First CUDA compute capability with native bfloat16 (Ampere)."""


@dataclass(frozen=True)
class Device:
    """What precision depends on: the CPU, or a CUDA GPU and its compute capability."""

    kind: Literal["cpu", "cuda"]
    """`cpu` or `cuda`."""
    capability: tuple[int, int] = (0, 0)
    """CUDA compute capability (major, minor); (0, 0) on the CPU."""
    name: str = "the CPU"
    """What messages call it (`Tesla T4`)."""

    @property
    def native_bf16(self) -> bool:
        return self.kind == "cuda" and self.capability >= BF16_CAPABILITY

    def __str__(self) -> str:
        if self.kind == "cpu":
            return self.name
        return f"{self.name} (compute capability {self.capability[0]}.{self.capability[1]})"


@dataclass(frozen=True)
class Precision:
    """Every dtype decision of one run."""

    compute_dtype: Dtype
    """Weights that are not quantized, and the activations."""
    bf16: bool
    """TrainingArguments.bf16: bfloat16 autocast."""
    fp16: bool
    """TrainingArguments.fp16: float16 autocast with loss scaling."""
    quant_compute_dtype: Dtype
    """bnb_4bit_compute_dtype: what 4-bit weights are dequantized to for each matmul."""
    lora_dtype: Dtype
    """The trainable LoRA weights (the optimizer's master copy)."""
    export_dtype: Dtype
    """Storage dtype of `medtrain export --merged-16bit`: float16 on a GPU without native
    bfloat16, else bfloat16 (the dtype the recipes' base models are published in; float16's
    range is too small for Gemma's activations)."""

    def torch_dtype(self, name: Dtype | None = None) -> Any:
        """The torch dtype of `name` (default: the compute dtype)."""
        import torch

        return getattr(torch, name or self.compute_dtype)


def current_device() -> Device:
    """The device training runs on: the current CUDA GPU if torch sees one, else the CPU."""
    import torch

    if not torch.cuda.is_available():
        return Device("cpu")
    major, minor = torch.cuda.get_device_capability()
    return Device("cuda", (major, minor), torch.cuda.get_device_name())


def _compute_dtype(requested: Requested, device: Device) -> Dtype:
    if requested == "auto":
        if device.kind == "cpu":
            return "float32"
        return "bfloat16" if device.native_bf16 else "float16"
    if requested == "bfloat16" and device.kind == "cuda" and not device.native_bf16:
        raise UserError(
            f"model.dtype=bfloat16 needs compute capability 8.0 or newer (A10, A100, L4, H100), "
            f"but {device} has none (torch would emulate it, many times slower); use "
            "--set model.dtype=auto (float16 mixed precision here) or model.dtype=float32"
        )
    if requested == "float16" and device.kind == "cpu":
        raise UserError(
            "model.dtype=float16 needs a CUDA GPU (there is no float16 mixed precision on the "
            "CPU); use --set model.dtype=auto (float32 here) or model.dtype=bfloat16"
        )
    return requested


def resolve(requested: Requested = "auto", device: Device | None = None) -> Precision:
    """The precision of a run with `model.dtype = requested` on `device` (default: this one)."""
    device = device or current_device()
    dtype = _compute_dtype(requested, device)
    return Precision(
        compute_dtype=dtype,
        bf16=dtype == "bfloat16",
        fp16=dtype == "float16",
        quant_compute_dtype=dtype,
        lora_dtype="float32",
        export_dtype="float16" if device.kind == "cuda" and not device.native_bf16 else "bfloat16",
    )
