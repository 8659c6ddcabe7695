"""The compute bound of a scoring run: forward FLOPs of the tokens processed, and the matmul peak
of the machine at the model's own linear-layer shapes."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import torch

from medeval.cpu_linear import PACK_ROWS
from medeval.loglik import TokenPair

PEAK_ROWS = (256, 512, 1024, 2048)
"""Token counts (matrix rows) the peak is measured at; the best one counts."""


def forward_inputs(encoded: list[list[TokenPair]]) -> list[tuple[int, ...]]:
    """The distinct model inputs (context + continuation minus its last token) medeval runs."""
    return sorted({tuple((ctx + cont)[:-1]) for pairs in encoded for ctx, cont in pairs})


def non_embedding_params(model: Any) -> int:
    """Parameters of the transformer blocks (the embedding/output matrix excluded)."""
    head = model.get_output_embeddings().weight
    embed = model.get_input_embeddings().weight
    return sum(p.numel() for p in model.parameters() if p is not head and p is not embed)


def flops(model: Any, inputs: list[tuple[int, ...]]) -> float:
    """F = sum over inputs of [2 P n + 2 L d n^2] + 2 d V per input: n tokens in the input,
    P non-embedding parameters (each token passes every block's matrices once, multiply + add),
    L layers, d = heads x head_dim (causal attention: QK^T and AV over the n(n+1)/2 visible
    pairs, 2 d FLOPs each), and the output head for the one scored position (d x vocab V).
    Padding is not counted: it is work the scorer should not do."""
    config = model.config
    per_token = 2 * non_embedding_params(model)
    head = 2 * config.hidden_size * config.vocab_size
    return float(sum(per_token * len(row) + head for row in inputs)) + attention_flops(
        model, inputs
    )


def attention_flops(model: Any, inputs: list[tuple[int, ...]]) -> float:
    """The attention's share of `flops`: sum over inputs of 2 L d n^2."""
    config = model.config
    d = config.num_attention_heads * getattr(
        config, "head_dim", config.hidden_size // config.num_attention_heads
    )
    return float(sum(2 * config.num_hidden_layers * d * len(row) ** 2 for row in inputs))


def linear_shapes(model: Any) -> Counter[tuple[int, int]]:
    """(in, out) of every linear layer in the blocks, with how often it occurs."""
    head = model.get_output_embeddings()
    return Counter(
        (m.in_features, m.out_features)
        for m in model.modules()
        if isinstance(m, torch.nn.Linear) and m is not head
    )


KERNELS: dict[str, Callable[[torch.Tensor, torch.Tensor], Callable[[], Any]]] = {
    "mkl": lambda x, w: lambda: torch.nn.functional.linear(x, w),
    "onednn": lambda x, w: partial(
        torch.ops.mkldnn._linear_pointwise,
        x, torch.ops.mkldnn._reorder_linear_weight(w, PACK_ROWS), None, "none", [], "",
    ),
}  # fmt: skip
"""The fp32 CPU matmul kernels in torch: MKL's sgemm (what `F.linear` calls) and oneDNN with
weights in its blocked layout (what medeval's scorer calls, `medeval.cpu_linear`). The machine's
peak is the faster one: on AMD processors MKL takes its AVX2 path and runs at half oneDNN's rate."""


@torch.inference_mode()
def matmul_peak(model: Any, repeats: int = 5) -> dict[str, float]:
    """FLOP/s of x @ W^T by each of KERNELS at the model's linear shapes, weighted as a forward
    pass weights them, at the best of PEAK_ROWS rows (fp32, torch's threads)."""
    shapes = linear_shapes(model)
    best = dict.fromkeys(KERNELS, 0.0)
    for rows in PEAK_ROWS:
        for name, kernel in KERNELS.items():
            work = seconds = 0.0
            for (n_in, n_out), count in shapes.items():
                product = kernel(torch.randn(rows, n_in), torch.randn(n_out, n_in))
                product()
                start = time.perf_counter()
                for _ in range(repeats):
                    product()
                seconds += count * (time.perf_counter() - start) / repeats
                work += count * 2.0 * rows * n_in * n_out
            best[name] = max(best[name], work / seconds)
    return best
