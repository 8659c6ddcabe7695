"""Each LoRA layer's update added in one product while it trains on a CPU.

peft's LoRA layer computes `base(x) + lora_B(lora_A(x)) * scaling`: the low-rank product, a
scaling pass and an addition each read and write a tokens x out_features tensor, three passes
where `addmm(base(x), lora_A(x), Bᵀ, alpha=scaling)` makes one, and autograd keeps one
intermediate fewer for backward. On `smollm2-cpu` (medtrain's README): a peak of 2.6 GB instead
of 2.9, those passes 6% of a step's profile instead of 10.5%, tokens a second the same within
this machine's noise. autograd differentiates addmm as it does the three ops, so the gradients
are the same; only layers where peft would compute exactly that are switched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from peft.tuners.lora.layer import Linear

from medtrain.switched import switched_forwards


def _plain_now(module: Any, name: str) -> bool:
    """Adapter `name` alone active, not merged, not disabled: checked when a layer is switched and
    again at each call, since peft's switches (disable_adapter, merge, set_adapter) can flip inside
    the block, and then peft's own forward runs."""
    return module.active_adapters == [name] and not module.merged and not module.disable_adapters


def _plain(module: torch.nn.Module) -> bool:
    """A peft LoRA `Linear` whose forward is the vanilla update above: one active adapter, not
    merged or disabled, no variant (DoRA), no dropout or bias on the update, fp32 on the CPU."""
    if type(module) is not Linear or "forward" in vars(module) or len(module.active_adapters) != 1:
        return False
    name = module.active_adapters[0]
    if not _plain_now(module, name) or name not in module.lora_A or name not in module.lora_B:
        return False
    a, b = module.lora_A[name], module.lora_B[name]
    return (
        name not in module.lora_variant  # DoRA and the like
        and type(module.lora_dropout[name]) is torch.nn.Identity
        and type(a) is type(b) is torch.nn.Linear
        and a.bias is None
        and b.bias is None
        and a.weight.dtype == b.weight.dtype == torch.float32
        and a.weight.device.type == b.weight.device.type == "cpu"
    )


def _fused_forward(module: Any) -> Callable[..., torch.Tensor]:
    name = module.active_adapters[0]
    base, lora_a, lora_b = module.base_layer, module.lora_A[name], module.lora_B[name]
    scaling = module.scaling[name]
    own = type(module).forward

    def forward(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        if (
            args
            or kwargs  # peft's mixed batch (adapter_names)
            or x.dtype != torch.float32
            or torch.is_autocast_enabled("cpu")  # peft rounds each op to half precision
            or not _plain_now(module, name)
        ):
            out: torch.Tensor = own(module, x, *args, **kwargs)
            return out
        result = base(x)
        low = lora_a(x)
        flat = torch.addmm(
            result.reshape(-1, result.shape[-1]),
            low.reshape(-1, low.shape[-1]),
            lora_b.weight.t(),
            alpha=scaling,
        )
        return flat.view(result.shape)

    return forward


@contextmanager
def fused_lora_layers(model: Any) -> Iterator[int]:
    """Inside the block, each plain LoRA layer of the model adds its update in one product;
    yields how many were switched. Not for sharded training (FSDP, DeepSpeed), which moves the
    weights."""
    with switched_forwards([m for m in model.modules() if _plain(m)], _fused_forward) as count:
        yield count
