"""Packed rows attended one example at a time: the same loss and gradients as transformers' SDPA
with its block-diagonal mask, for every family that attends by SDPA; anything else passed on."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers.integrations import sdpa_attention
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from medtrain.packed_attention import NAME, example_sizes, per_example_attention
from testsupport.tiny import ARCHITECTURES, tiny_causal_lm

SIZES = [5, 7, 4]
"""Lengths of the examples packed into the test row."""
IDS = torch.arange(3, 3 + sum(SIZES))[None]
PACKED = torch.cat([torch.arange(n) for n in SIZES])[None]
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def lora_model(arch: str, **config: Any) -> torch.nn.Module:
    lora = LoraConfig(r=4, target_modules=TARGETS, init_lora_weights=False)
    return get_peft_model(tiny_causal_lm(arch, vocab_size=128, **config), lora).train()


def loss_and_grads(model: torch.nn.Module, **inputs: Any) -> tuple[torch.Tensor, dict[str, Any]]:
    model.zero_grad()
    loss = model(**inputs, use_cache=False).loss
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), grads


@pytest.fixture
def sdpa_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, bool]]:
    """(tokens, whether a mask was given) of every call of transformers' SDPA attention."""
    calls: list[tuple[int, bool]] = []
    real = sdpa_attention.sdpa_attention_forward

    def spy(module: Any, query: Any, key: Any, value: Any, mask: Any, **kw: Any) -> Any:
        calls.append((query.shape[2], mask is not None))
        return real(module, query, key, value, mask, **kw)

    monkeypatch.setattr(sdpa_attention, "sdpa_attention_forward", spy)  # what ours calls
    monkeypatch.setitem(ALL_ATTENTION_FUNCTIONS._global_mapping, "sdpa", spy)  # the models' own
    return calls


def test_example_sizes_cut_where_the_positions_restart() -> None:
    assert example_sizes(PACKED) == SIZES
    assert example_sizes(torch.tensor([[0, 1, 2, 0, 0, 1]])) == [3, 1, 2]
    assert example_sizes(torch.arange(6)[None]) is None  # one example
    assert example_sizes(torch.arange(4, 9)[None]) is None  # one example after a cache
    assert example_sizes(PACKED.expand(2, -1)) is None  # a batch of rows: left to its mask
    assert example_sizes(None) is None


SDPA_FAMILIES = sorted(a for a in ARCHITECTURES if a != "gemma2")
"""Gemma-2 attends eagerly (SDPA has no soft-capping): the test below shows it is left alone."""


@pytest.mark.parametrize("arch", SDPA_FAMILIES)
def test_every_family_trains_a_packed_row_to_the_same_loss_and_gradients(
    arch: str, sdpa_calls: list[tuple[int, bool]]
) -> None:
    model = lora_model(arch)
    inputs = {"input_ids": IDS, "labels": IDS, "position_ids": PACKED}
    loss, grads = loss_and_grads(model, **inputs)
    assert sdpa_calls == [(sum(SIZES), True)] * 2  # the whole row under its block mask, 2 layers
    sdpa_calls.clear()
    with per_example_attention(model) as switched:
        assert switched and model.config._attn_implementation == NAME
        fast_loss, fast_grads = loss_and_grads(model, **inputs)
    assert model.config._attn_implementation == "sdpa"
    assert sdpa_calls == [(n, False) for n in SIZES] * 2  # each example alone, causal, no mask
    assert torch.allclose(fast_loss, loss, atol=1e-6)
    assert grads.keys() == fast_grads.keys() and grads
    for name, grad in grads.items():
        assert torch.allclose(fast_grads[name], grad, atol=1e-6, rtol=1e-4), name


def test_padded_batches_and_windows_shorter_than_an_example_keep_the_mask(
    sdpa_calls: list[tuple[int, bool]],
) -> None:
    padded = {
        "input_ids": IDS[:, :8].expand(2, -1),
        "attention_mask": torch.tensor([[1] * 8, [1] * 5 + [0] * 3]),
    }
    windowed = {"input_ids": IDS, "position_ids": PACKED}
    cases = [(lora_model("llama"), padded), (lora_model("mistral", sliding_window=6), windowed)]
    for model, inputs in cases:
        model.eval()
        with torch.no_grad():
            before = model(**inputs).logits
            with per_example_attention(model) as switched:
                after = model(**inputs).logits
        assert switched and torch.equal(after, before)
    tokens = sum(SIZES)
    assert sdpa_calls == [(8, True)] * 4 + [(tokens, True)] * 4  # unsplit, masked, each time


def test_other_implementations_and_devices_are_left_alone() -> None:
    eager = lora_model("gemma2")
    assert eager.config._attn_implementation == "eager"
    with per_example_attention(eager) as switched:
        assert not switched and eager.config._attn_implementation == "eager"
    elsewhere = tiny_causal_lm("llama", vocab_size=128).to("meta")
    with per_example_attention(elsewhere) as switched:
        assert not switched and elsewhere.config._attn_implementation == "sdpa"


def test_the_implementation_comes_back_after_an_exception() -> None:
    model = lora_model("llama")
    with pytest.raises(RuntimeError, match="interrupted"), per_example_attention(model):
        raise RuntimeError("interrupted")
    assert model.config._attn_implementation == "sdpa"
