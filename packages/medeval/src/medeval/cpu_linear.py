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
which measured faster there. Each gated MLP (gate, up and down projections around an activation,
as in every family here) runs as one chain, its activation and product fused into oneDNN's
gate and up products. A LoRA layer runs as one product with its adapter merged into a packed copy
of its weight (`W + scaling·B·A`), where peft would add exactly that update; its base weight's
copy serves `disable_adapter()`. The fine-tuned SmolLM2 then decodes as fast as its base: 64
answers of the pipeline in 51 s (the base 52 s) where peft's three products a layer took 57-65 s,
the same answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
from peft.tuners.lora.layer import Linear as LoraLinear

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


def _pack(weight: torch.Tensor) -> torch.Tensor:
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach(), PACK_ROWS)


def _bias(module: torch.nn.Linear) -> torch.Tensor | None:
    return None if module.bias is None else module.bias.detach()


def _linear_forward(
    packed: torch.Tensor, bias: torch.Tensor | None
) -> Callable[[torch.Tensor], torch.Tensor]:
    def forward(x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")
        return out

    return forward


def _adapter_now(module: Any, name: str) -> bool:
    """peft would add adapter `name`'s update alone and as it is: the one active adapter, not
    merged into the weight, not disabled, no dropout in force. Checked at each call:
    `disable_adapter()`, `train()` and the like flip these inside the block, and then peft's own
    forward runs."""
    dropout = module.training and type(module.lora_dropout[name]) is not torch.nn.Identity
    return (
        module.active_adapters == [name]
        and not module.merged
        and not module.disable_adapters
        and not dropout
    )


def _mergeable(module: torch.nn.Module) -> str | None:
    """The adapter of a peft LoRA `Linear` whose output is `base(x) + scaling·B(A(x))`: one active
    adapter, no variant (DoRA), no bias on the update, a plain fp32 CPU base; else None."""
    if type(module) is not LoraLinear or "forward" in vars(module):
        return None
    if len(module.active_adapters) != 1 or module.fan_in_fan_out:
        return None
    name = module.active_adapters[0]
    if not _adapter_now(module, name) or name not in module.lora_A:
        return None
    a, b = module.lora_A[name], module.lora_B[name]
    plain = (
        name not in module.lora_variant
        and type(a) is type(b) is torch.nn.Linear
        and a.bias is None
        and b.bias is None
        and a.weight.dtype == b.weight.dtype == torch.float32
        and _convertible(module.base_layer)
    )
    return name if plain else None


def _merged_weight(module: Any, name: str) -> torch.Tensor:
    """The base weight plus the adapter's scaled update, as peft's own merge computes it."""
    a, b = module.lora_A[name].weight, module.lora_B[name].weight
    return module.base_layer.weight.detach() + module.scaling[name] * (b @ a).detach()


def _merged_forward(
    module: Any, name: str, merged: Callable[[torch.Tensor], torch.Tensor]
) -> Callable[..., torch.Tensor]:
    """`merged` (the packed merged weight's product) where peft would add the adapter as it is;
    peft's own forward otherwise."""
    own = type(module).forward

    def forward(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if args or kwargs or not _adapter_now(module, name):  # kwargs: a mixed batch
            out: torch.Tensor = own(module, x, *args, **kwargs)
            return out
        return merged(x)

    return forward


ACTIVATIONS: tuple[tuple[str, str, Callable[[torch.Tensor], torch.Tensor]], ...] = (
    ("swish", "", torch.nn.functional.silu),
    ("gelu", "tanh", partial(torch.nn.functional.gelu, approximate="tanh")),
    ("gelu", "none", torch.nn.functional.gelu),
)
"""oneDNN's post-op name and algorithm for each activation of the families' gated MLPs, beside
torch's own function."""


def _onednn_activation(act: Any) -> tuple[str, str] | None:
    """The post-op computing `act`, recognised by its outputs (transformers has several classes
    for one function, and a family may swap them)."""
    if not callable(act):
        return None
    probe = torch.linspace(-6, 6, 97)
    for attr, algorithm, reference in ACTIVATIONS:
        if torch.allclose(act(probe), reference(probe), atol=1e-6):
            return attr, algorithm
    return None


Packed = dict[torch.nn.Module, tuple[torch.Tensor, torch.Tensor | None]]
"""Each switched layer's packed weight and bias (a LoRA layer's: merged)."""


def _gated_mlp_forward(
    block: torch.nn.Module, packed: Packed, adapters: dict[torch.nn.Module, str]
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """`down(act(gate(x)) * up(x))` with the activation and the product done by oneDNN inside the
    gate and up products, or None where `block` is not such an MLP of switched layers or computes
    something else. Fusing saves two elementwise passes over the widest activations: 3-9% of a
    task's time (100 items, alternating, fastest of 3: MedQA 13.0 s against 13.4, MMLU college
    medicine 6.9 against 7.4, PubMedQA 26.2 against 28.4). LoRA layers (`adapters`: each one's
    adapter name) join with their merged weights while peft would add each update as it is, and
    the block's own forward runs otherwise (under `disable_adapter()`), as it does while a layer
    has hooks, which the chain would skip (peft passes a mixed batch's `adapter_names` by one)."""
    if "forward" in vars(block):  # already replaced (accelerate's hooks, a nested block)
        return None
    layers: list[Any] = [getattr(block, n, None) for n in ("gate_proj", "up_proj", "down_proj")]
    activation = _onednn_activation(getattr(block, "act_fn", None))
    if activation is None or not all(layer in packed for layer in layers):
        return None
    attr, algorithm = activation
    gate, up, down = (packed[layer] for layer in layers)
    lora = [(layer, adapters[layer]) for layer in layers if layer in adapters]
    unfused_forward, ops = type(block).forward, torch.ops.mkldnn

    def forward(x: torch.Tensor) -> torch.Tensor:
        hooked = any(layer._forward_pre_hooks or layer._forward_hooks for layer in layers)
        if hooked or not all(_adapter_now(layer, name) for layer, name in lora):
            unfused: torch.Tensor = unfused_forward(block, x)
            return unfused
        hidden = ops._linear_pointwise(x, *gate, attr, [], algorithm)
        hidden = ops._linear_pointwise.binary(x, hidden, *up, "mul")
        out: torch.Tensor = ops._linear_pointwise(hidden, *down, "none", [], "")
        return out

    probe = torch.randn(1, 3, layers[0].in_features, generator=torch.Generator().manual_seed(0))
    try:
        fused, own = forward(probe), block.forward(probe)
    except (TypeError, RuntimeError):  # its forward wants more than the hidden states
        return None
    # summation order moves the fused chain by ~1e-6 of the output's scale; another function
    # moves it by the scale itself
    same = bool((fused - own).abs().max() <= 1e-4 * own.abs().max())
    return forward if same else None


@contextmanager
def onednn_linears(model: Any) -> Iterator[int]:
    """Run the model's fp32 CPU linear layers (its blocks, its output head, a LoRA adapter's
    base and low-rank layers, each plain LoRA layer merged) through oneDNN inside the block, each
    gated MLP of them as one fused chain; yields how many modules were switched, layers, LoRA
    layers and MLPs (0 on a GPU, in half precision, or where this torch lacks the op).

    For inference only: no gradient reaches the packed copies, and the weights must not change
    inside the block. They are copied into oneDNN's layout once, on entry: a second copy of the
    linear weights in memory while the block lasts (0.5 GB for SmolLM2-135M), and a third of each
    LoRA layer's, merged. Hooks still run, since only each module's `forward` is replaced (a fused
    MLP whose layers have hooks runs unfused); results equal torch's to fp32 rounding (summation
    order).
    """
    linears = [m for m in model.modules() if _convertible(m)]
    if not linears or not _onednn_works():
        yield 0
        return
    adapters = {m: name for m in model.modules() if (name := _mergeable(m)) is not None}
    switched: list[torch.nn.Module] = []
    try:
        with torch.no_grad():
            packed: Packed = {m: (_pack(m.weight), _bias(m)) for m in linears}
            for module in linears:
                module.forward = _linear_forward(*packed[module])
                switched.append(module)
            for module, name in adapters.items():
                packed[module] = (_pack(_merged_weight(module, name)), _bias(module.base_layer))
                module.forward = _merged_forward(module, name, _linear_forward(*packed[module]))
                switched.append(module)
            for block in model.modules():
                fused = _gated_mlp_forward(block, packed, adapters)
                if fused is not None:
                    block.forward = fused
                    switched.append(block)
        yield len(switched)
    finally:
        for module in switched:
            del module.forward
