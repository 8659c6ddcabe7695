"""FP32 linear layers through oneDNN while a CPU model scores or generates.

`torch.nn.functional.linear` on a CPU calls MKL's sgemm, which on AMD processors takes its AVX2
path: 210-227 GFLOP/s at SmolLM2's shapes on this project's 2-core AMD EPYC, where oneDNN, also
built into torch, runs the same products with AVX-512 at 440-520 (the medeval README has the
parity run). oneDNN reads the weights where they are: packing them into its blocked layout first
is faster on an isolated product (490 against 440 GFLOP/s at 1,024 rows) but not in a whole run
(100 MedQA items: 14.9-15.4 s packed, 13.9-14.1 s not; MedMCQA 4.0 against 4.1-4.3), and would
hold a second copy of the weights. torch exposes oneDNN's dense-input linear only as
`torch.ops.mkldnn._linear_pointwise`, the op its own compiler emits for frozen CPU models; the
public `torch.utils.mkldnn.to_mkldnn` converts every activation to and from oneDNN's tensor
type, which costs a fifth of the gain (400 GFLOP/s). So the op is probed first and anything it
cannot take keeps torch's path. medtrain has the training twin of this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch


def _product(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """x weightᵀ + bias by oneDNN."""
    out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")
    return out


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


def _convertible(module: torch.nn.Module) -> bool:
    """A plain fp32 CPU `nn.Linear` (not a quantized or adapter subclass, whose forward differs)."""
    return (
        type(module) is torch.nn.Linear
        and module.weight.dtype == torch.float32
        and module.weight.device.type == "cpu"
        and "forward" not in vars(module)  # not already switched (a nested block)
    )


def _onednn_forward(module: torch.nn.Linear) -> Callable[[torch.Tensor], torch.Tensor]:
    weight = module.weight.detach()
    bias = None if module.bias is None else module.bias.detach()
    return lambda x: _product(x, weight, bias)


@contextmanager
def onednn_linears(model: Any) -> Iterator[int]:
    """Run the model's fp32 CPU linear layers (its blocks, its output head, a LoRA adapter's
    base and low-rank layers) through oneDNN inside the block; yields how many were switched
    (0 on a GPU, in half precision, or where this torch lacks the op).

    For inference only: no gradient flows through the switched layers. No weight is copied.
    Hooks still run, since only each module's `forward` is replaced; results equal torch's to
    fp32 rounding (summation order).
    """
    modules = [m for m in model.modules() if _convertible(m)]
    if not modules or not _onednn_works():
        yield 0
        return
    for module in modules:
        module.forward = _onednn_forward(module)
    try:
        yield len(modules)
    finally:
        for module in modules:
            del module.forward
