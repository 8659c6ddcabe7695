"""FP32 linear layers through oneDNN while a CPU model scores or generates.

`torch.nn.functional.linear` on a CPU calls MKL's sgemm, which on AMD processors takes its AVX2
path: 210-227 GFLOP/s at SmolLM2's shapes on this project's 2-core AMD EPYC, where oneDNN, also
built into torch, runs the same products with AVX-512 at 509-521 (weights in its blocked layout);
100 MedQA items score in 13.4 s instead of 26.1 (the medeval README has the parity table). torch
exposes oneDNN's dense-input linear only as `torch.ops.mkldnn._linear_pointwise`, the op its own
compiler emits for frozen CPU models; the public `torch.utils.mkldnn.to_mkldnn` converts every
activation to and from oneDNN's tensor type, which costs a fifth of the gain (400 GFLOP/s). So
the op is probed first and anything it cannot take keeps torch's path. Handing oneDNN the weights
as they are, with no packed copy, was slower over the parity suite (86 s against 82; MMLU medical
genetics 5.3 s against 4.3): its unpacked path loses most on small batches (179-249 against
246-362 GFLOP/s at 16 rows). medtrain's training twin of this module reads the weights unpacked,
which measured faster there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

PACK_ROWS = 1024
"""Rows oneDNN lays its packed weights out for (the CPU scorer's token budget); any row count
works with them."""


def _onednn_works() -> bool:
    """Whether this torch has oneDNN's dense linear and it computes x @ W^T + b."""
    if not torch.backends.mkldnn.is_available():
        return False
    x, w, b = torch.randn(3, 8), torch.randn(4, 8), torch.randn(4)
    try:
        packed = torch.ops.mkldnn._reorder_linear_weight(w, PACK_ROWS)
        out = torch.ops.mkldnn._linear_pointwise(x, packed, b, "none", [], "")
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
    packed = torch.ops.mkldnn._reorder_linear_weight(module.weight.detach(), PACK_ROWS)
    bias = None if module.bias is None else module.bias.detach()

    def forward(x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")
        return out

    return forward


@contextmanager
def onednn_linears(model: Any) -> Iterator[int]:
    """Run the model's fp32 CPU linear layers (its blocks, its output head, a LoRA adapter's
    base and low-rank layers) through oneDNN inside the block; yields how many were switched
    (0 on a GPU, in half precision, or where this torch lacks the op).

    For inference only: no gradient reaches the packed copies, and the weights must not change
    inside the block. They are copied into oneDNN's layout once, on entry: a second copy of the
    linear weights in memory while the block lasts (0.5 GB for SmolLM2-135M). Hooks still run,
    since only each module's `forward` is replaced; results equal torch's to fp32 rounding
    (summation order).
    """
    modules = [m for m in model.modules() if _convertible(m)]
    if not modules or not _onednn_works():
        yield 0
        return
    with torch.no_grad():
        for module in modules:
            module.forward = _onednn_forward(module)
    try:
        yield len(modules)
    finally:
        for module in modules:
            del module.forward
