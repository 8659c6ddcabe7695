"""LoRA updates added in one product: the same loss and gradients as peft's own forward for every
family, alone and with the rest of training's CPU paths; anything peft does differently is left
to peft."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import pytest
import torch
from peft import LoraConfig, get_peft_model

from medtrain.fused_lora import fused_lora_layers
from medtrain.trainer import cpu_paths
from testsupport.tiny import ARCHITECTURES, tiny_causal_lm

IDS = torch.tensor([[5, 9, 40, 41, 42, 43, 44, 7], [100, 101, 102, 103, 104, 105, 106, 107]])
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
LAYERS = 2 * len(TARGETS)
"""LoRA layers of a tiny model: 2 blocks x 7 projections."""


def lora_model(arch: str = "llama", **lora: Any) -> Any:
    config = LoraConfig(r=4, target_modules=TARGETS, init_lora_weights=False, **lora)
    return get_peft_model(tiny_causal_lm(arch, vocab_size=128), config).train()


def loss_and_grads(model: Any) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    loss = model(input_ids=IDS, labels=IDS, use_cache=False).loss
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), grads


Measured = tuple[torch.Tensor, dict[str, torch.Tensor]]


def assert_same(a: Measured, b: Measured) -> None:
    assert torch.allclose(a[0], b[0], atol=1e-5)
    assert a[1].keys() == b[1].keys() and len(a[1]) == 2 * LAYERS
    for name, grad in a[1].items():
        assert torch.allclose(b[1][name], grad, atol=1e-5, rtol=1e-3), name


def switched(model: Any) -> int:
    return sum("forward" in vars(m) for m in model.modules() if hasattr(m, "lora_A"))


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_family_trains_its_adapter_with_the_same_loss_and_gradients(arch: str) -> None:
    model = lora_model(arch)
    own = loss_and_grads(model)
    with fused_lora_layers(model) as count:
        assert count == switched(model) == LAYERS
        assert_same(own, loss_and_grads(model))
    assert switched(model) == 0
    with cpu_paths(model, world_size=1):  # with oneDNN's frozen products and packed attention
        assert switched(model) == LAYERS
        assert_same(own, loss_and_grads(model))


@pytest.mark.parametrize(
    "lora", [{"lora_dropout": 0.1}, {"use_dora": True}, {"lora_bias": True}], ids=str
)
def test_layers_peft_computes_differently_are_left_to_peft(lora: dict[str, Any]) -> None:
    with fused_lora_layers(lora_model(**lora)) as count:
        assert count == 0
    half = lora_model().to(torch.bfloat16)
    with fused_lora_layers(half) as count:
        assert count == 0


def test_switches_flipped_inside_the_block_reach_peft() -> None:
    model = lora_model().eval()
    with torch.no_grad():
        with model.disable_adapter():
            base = model(input_ids=IDS).logits
        adapted = model(input_ids=IDS).logits
        with fused_lora_layers(model) as count:
            assert count == LAYERS
            with model.disable_adapter():
                assert torch.equal(model(input_ids=IDS).logits, base)
            assert torch.allclose(model(input_ids=IDS).logits, adapted, atol=1e-6)
    assert not torch.allclose(adapted, base)


def test_the_layers_come_back_after_an_exception() -> None:
    model = lora_model()
    with pytest.raises(RuntimeError, match="interrupted"), fused_lora_layers(model):
        raise RuntimeError("interrupted")
    assert switched(model) == 0


def bf16_base() -> Any:
    """bfloat16 weights under fp32 LoRA, as medtrain's bf16 precision loads a model."""
    model = lora_model().to(torch.bfloat16)
    for name, param in model.named_parameters():
        if "lora_" in name:
            param.data = param.data.float()
    return model


CALLS: dict[str, tuple[Any, dict[str, Any], Any]] = {
    "mixed batch": (lora_model, {"adapter_names": ["default", "__base__"]}, nullcontext),
    "autocast": (lora_model, {}, lambda: torch.autocast("cpu", dtype=torch.bfloat16)),
    "bf16 input": (bf16_base, {}, nullcontext),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_calls_it_does_not_fuse_run_peft_and_give_peft_results(call: str) -> None:
    """A mixed batch (one adapter per row), autocast, and half-precision input reach peft's own
    forward inside the block, on layers it switched."""
    build, kwargs, context = CALLS[call]
    model = build().eval()
    with torch.no_grad():
        with context():
            own = model(input_ids=IDS, **kwargs).logits
        with fused_lora_layers(model) as count, context():
            assert count == LAYERS
            assert torch.equal(model(input_ids=IDS, **kwargs).logits, own)
