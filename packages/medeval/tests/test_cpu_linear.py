from typing import Any

import pytest
import torch
from peft import LoraConfig, get_peft_model
from transformers.models.llama.modeling_llama import LlamaMLP

from medeval.cpu_linear import onednn_linears
from medeval.loglik import score_pairs
from testsupport.switched import switched, switched_at_each_head_call
from testsupport.tiny import ARCHITECTURES, tiny_causal_lm

IDS = torch.tensor([[5, 9, 40, 41, 42, 43, 44, 7], [100, 101, 102, 103, 104, 105, 106, 107]])


def logits(model: torch.nn.Module) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=IDS, use_cache=False).logits


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_family_computes_the_same_logits_and_gets_its_layers_back(arch: str) -> None:
    model = tiny_causal_lm(arch, vocab_size=128).eval()
    linears = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
    expected = logits(model)
    with onednn_linears(model) as count:
        # every layer's gated MLP (SiLU, or Gemma's tanh GELU) runs as one fused chain too
        assert count == linears + model.config.num_hidden_layers == switched(model)
        assert torch.allclose(logits(model), expected, atol=1e-5, rtol=1e-4)
    assert switched(model) == 0
    assert torch.equal(logits(model), expected)


TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def lora_model(arch: str, targets: list[str] = TARGETS, **lora: Any) -> Any:
    config = LoraConfig(r=4, target_modules=targets, init_lora_weights=False, **lora)
    return get_peft_model(tiny_causal_lm(arch, vocab_size=128), config).eval()


def base_logits(model: Any) -> torch.Tensor:
    with model.disable_adapter():
        return logits(model)


def close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a, b, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_family_runs_its_adapter_merged_and_its_base_under_disable_adapter(
    arch: str,
) -> None:
    model = lora_model(arch)
    blocks = model.config.num_hidden_layers
    plain = sum(type(m) is torch.nn.Linear for m in model.modules())
    finetuned, base = logits(model), base_logits(model)
    assert not close(finetuned, base)
    with onednn_linears(model) as count:
        # the plain layers (bases, A, B, head), each adapted projection merged, each MLP fused
        assert count == plain + len(TARGETS) * blocks + blocks == switched(model)
        assert close(logits(model), finetuned)
        assert close(base_logits(model), base)  # peft's switch reaches layers and MLPs
        assert close(logits(model), finetuned)
    assert switched(model) == 0
    assert torch.equal(logits(model), finetuned)


def test_a_lora_adapter_on_biased_projections_merges_and_leaves_its_mlps_fused() -> None:
    model = lora_model("qwen2", ["q_proj", "v_proj"])  # q/k/v biases
    finetuned = logits(model)
    with onednn_linears(model) as count:
        plain = sum(type(m) is torch.nn.Linear for m in model.modules())
        blocks = model.config.num_hidden_layers
        assert count == plain + 2 * blocks + blocks
        assert close(logits(model), finetuned)


@pytest.mark.parametrize(
    "lora", [{"use_dora": True}, {"lora_bias": True}], ids=["dora", "lora_bias"]
)
def test_adapters_that_do_not_add_a_plain_update_are_left_to_peft(lora: dict[str, Any]) -> None:
    model = lora_model("llama", **lora)
    finetuned = logits(model)
    with onednn_linears(model) as count:
        plain = sum(type(m) is torch.nn.Linear for m in model.modules())
        assert count == plain  # no LoRA layer merged, no MLP of LoRA layers fused
        assert close(logits(model), finetuned)


def test_dropout_in_training_mode_reaches_peft() -> None:
    model = lora_model("llama", lora_dropout=0.5).train()
    with torch.inference_mode():
        torch.manual_seed(0)
        own = model(input_ids=IDS, use_cache=False).logits  # peft drops half of A's inputs
        with onednn_linears(model):
            torch.manual_seed(0)
            inside = model(input_ids=IDS, use_cache=False).logits
    assert close(inside, own)


def test_a_mixed_batch_reaches_peft() -> None:
    model = lora_model("llama")
    rows = ["default", "__base__"]  # one adapter per row
    with torch.inference_mode():
        mixed = model(input_ids=IDS, adapter_names=rows, use_cache=False).logits
        with onednn_linears(model):
            inside = model(input_ids=IDS, adapter_names=rows, use_cache=False).logits
    assert close(inside, mixed)
    assert close(mixed[0], logits(model)[0]) and close(mixed[1], base_logits(model)[1])


class QuantizedLinear(torch.nn.Linear):
    """Stands for bitsandbytes' Linear4bit/Linear8bitLt: nn.Linear subclasses with their own
    forward."""


def test_half_precision_other_devices_subclasses_and_nested_blocks_are_left_alone() -> None:
    model = tiny_causal_lm("llama", vocab_size=128).eval()
    with onednn_linears(model.to(torch.bfloat16)) as count:
        assert count == 0
    with onednn_linears(tiny_causal_lm("llama", vocab_size=128).to("meta")) as count:
        assert count == 0  # weights off the CPU, as on a GPU
    model = model.float()
    model.lm_head.__class__ = QuantizedLinear
    with onednn_linears(model) as outer, onednn_linears(model) as inner:
        assert (outer, inner) == (switched(model), 0)
        assert "forward" not in vars(model.lm_head)
    assert outer == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) - 1 + 2  # MLPs
    assert switched(model) == 0


class ShiftedMLP(LlamaMLP):
    """The gated product moved by `shift` times its largest output."""

    shift = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return out + self.shift * out.abs().max()


@pytest.mark.parametrize(("shift", "fused"), [(1e-6, 1), (1e-2, 0)])
def test_an_mlp_counts_as_the_gated_product_within_rounding_of_its_output_scale(
    shift: float, fused: int
) -> None:
    """Summation order moves SmolLM2's MLP outputs (400-3,000 on a unit input) by ~1e-6 of their
    largest, which is more than an elementwise 1e-4 on the outputs near zero."""
    model = tiny_causal_lm("llama", vocab_size=128).eval()
    mlp = model.model.layers[0].mlp
    with torch.no_grad():
        mlp.gate_proj.weight.mul_(300)
        mlp.up_proj.weight.mul_(300)
    mlp.__class__ = ShiftedMLP
    mlp.shift = shift
    assert mlp(torch.randn(1, 3, 32)).abs().max() > 100
    with onednn_linears(model) as count:
        assert count == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) + 1 + fused
        assert ("forward" in vars(mlp)) == bool(fused)


class SummedMLP(LlamaMLP):
    """Gate, up and down projections and an activation, but not the gated product."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x)) + self.up_proj(x))


def test_an_mlp_is_fused_only_as_the_gated_product_of_a_known_activation() -> None:
    model = tiny_causal_lm("llama", vocab_size=128).eval()
    first, second = (layer.mlp for layer in model.model.layers)
    first.__class__ = SummedMLP
    second.act_fn = torch.nn.GELU()  # exact GELU: oneDNN's "gelu" post-op without tanh
    linears = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
    expected = logits(model)
    with onednn_linears(model) as count:
        assert count == linears + 1 == switched(model)
        assert "forward" not in vars(first) and "forward" in vars(second)
        assert torch.allclose(logits(model), expected, atol=1e-5, rtol=1e-4)
    second.act_fn = torch.nn.Hardswish()  # no post-op listed for it
    expected = logits(model)
    with onednn_linears(model) as count:
        assert count == linears == switched(model)
        assert torch.allclose(logits(model), expected, atol=1e-5, rtol=1e-4)


def test_an_mlp_whose_forward_is_already_replaced_keeps_it() -> None:
    """As accelerate's hooks replace a module's forward: fusing would drop them, and leaving the
    block would delete them."""
    model = tiny_causal_lm("llama", vocab_size=128).eval()
    mlp = model.model.layers[0].mlp
    hooked = mlp.forward
    mlp.forward = hooked
    with onednn_linears(model) as count:
        assert count == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) + 1
        assert vars(mlp)["forward"] is hooked
    assert vars(mlp)["forward"] is hooked


def test_the_layers_come_back_when_the_block_raises() -> None:
    model = tiny_causal_lm("llama", vocab_size=128).eval()
    with pytest.raises(KeyError), onednn_linears(model):
        raise KeyError("boom")
    assert switched(model) == 0


def test_a_torch_without_the_op_keeps_its_own_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*_args: object) -> None:
        raise RuntimeError("No such operator mkldnn::_reorder_linear_weight")

    monkeypatch.setattr(torch.ops.mkldnn, "_reorder_linear_weight", missing)
    model = tiny_causal_lm("llama", vocab_size=128).eval()
    with onednn_linears(model) as count:
        assert count == switched(model) == 0
    assert score_pairs(model, [([5, 9, 40], [41, 42])])[0].n_tokens == 2


def test_the_scorer_runs_its_forward_passes_through_onednn() -> None:
    model = tiny_causal_lm("llama", vocab_size=128).eval()
    with switched_at_each_head_call(model) as seen:
        score_pairs(model, [([5, 9, 40], [41, 42]), ([7, 8], [9])])
    assert seen == [sum(isinstance(m, torch.nn.Linear) for m in model.modules()) + 2]  # + MLPs
    assert switched(model) == 0
