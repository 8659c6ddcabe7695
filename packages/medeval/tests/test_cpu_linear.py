import pytest
import torch
from peft import LoraConfig, get_peft_model

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
        assert count == linears == switched(model)
        assert torch.allclose(logits(model), expected, atol=1e-5, rtol=1e-4)
    assert switched(model) == 0
    assert torch.equal(logits(model), expected)


def test_a_lora_adapter_runs_its_base_and_low_rank_layers_through_onednn() -> None:
    base = tiny_causal_lm("qwen2", vocab_size=128)  # q/k/v biases
    config = LoraConfig(r=4, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
    model = get_peft_model(base, config).eval()
    expected = logits(model)
    with onednn_linears(model) as count:
        # each adapted projection: its base layer plus lora_A and lora_B (the wrapper is not a
        # plain nn.Linear and keeps its own forward, which adds the scaled low-rank product)
        assert count == sum(type(m) is torch.nn.Linear for m in model.modules())
        assert torch.allclose(logits(model), expected, atol=1e-5, rtol=1e-4)
    assert switched(model) == 0


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
    assert outer == sum(isinstance(m, torch.nn.Linear) for m in model.modules()) - 1
    assert switched(model) == 0


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
    assert seen == [sum(isinstance(m, torch.nn.Linear) for m in model.modules())]
    assert switched(model) == 0
