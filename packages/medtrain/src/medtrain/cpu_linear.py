"""Frozen fp32 linear layers through oneDNN while LoRA trains on a CPU.

`torch.nn.functional.linear` calls MKL's sgemm, whose AVX2 path on AMD processors runs at 43% of
oneDNN's AVX-512 rate (218-227 against 509-521 GFLOP/s at SmolLM2's shapes on this project's AMD
EPYC; medeval's README has the measurement). A LoRA run never changes its base layers, so the
product each one's forward makes (x Wᵀ) and the one its backward needs for the input's gradient
(g W, W's transposed view taken as the weight) can both run through oneDNN, reading W where it is.
On the smollm2-cpu recipe (12 steps): 327-338 tokens/s against MKL's 225-240, the same losses to
1e-6, peak memory 3.2 GB against 2.9; with W also packed into oneDNN's blocked layout (as medeval
does for inference), 319 tokens/s and 3.7 GB. medeval has the inference twin of this module
(packages share files, not code); torch exposes oneDNN's dense-input linear only as
`torch.ops.mkldnn._linear_pointwise`, so it is probed first and skipped where missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from medtrain.switched import switched_forwards


def _product(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x weightᵀ + bias by oneDNN."""
    out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
    return out


class _FrozenProduct(torch.autograd.Function):
    """x Wᵀ + b forward, g W backward (the input's gradient only: W and b are frozen)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: Any) -> torch.Tensor:
        ctx.weight = weight
        return _product(x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None]:
        return _product(grad.contiguous(), ctx.weight.t(), None), None, None


def _onednn_works() -> bool:
    """Whether this torch has oneDNN's dense linear and it computes x Wᵀ + b."""
    if not torch.backends.mkldnn.is_available():
        return False
    x, w, b = torch.randn(3, 8), torch.randn(4, 8), torch.randn(4)
    try:
        out = _product(x, w, b)
    except (AttributeError, RuntimeError):  # an older or newer torch without the op
        return False
    return bool(torch.allclose(out, torch.nn.functional.linear(x, w, b), atol=1e-5))


def _frozen(module: torch.nn.Module) -> bool:
    """A plain fp32 CPU `nn.Linear` that does not train (LoRA's base layers, the output head),
    not a quantized subclass and not already switched."""
    return (
        type(module) is torch.nn.Linear
        and module.weight.dtype == torch.float32
        and module.weight.device.type == "cpu"
        and not any(p.requires_grad for p in module.parameters())
        and "forward" not in vars(module)
    )


def _onednn_forward(module: torch.nn.Linear) -> Callable[[torch.Tensor], torch.Tensor]:
    weight = module.weight.detach()
    bias = None if module.bias is None else module.bias.detach()

    def forward(x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled() or not x.requires_grad:
            return _product(x, weight, bias)
        out: torch.Tensor = _FrozenProduct.apply(x, weight, bias)
        return out

    return forward


@contextmanager
def onednn_frozen_linears(model: Any) -> Iterator[int]:
    """Run the model's frozen fp32 CPU linear layers through oneDNN inside the block, forward and
    backward; yields how many were switched (0 on a GPU, in half precision, for 4-bit layers, or
    where this torch lacks the op). Trainable layers (LoRA's A and B) keep torch's path.

    No weight is copied. Not for sharded training (FSDP, DeepSpeed), which moves the weights.
    """
    modules = [m for m in model.modules() if _frozen(m)]
    if not modules or not _onednn_works():
        yield 0
        return
    with switched_forwards(modules, _onednn_forward) as count:
        yield count
