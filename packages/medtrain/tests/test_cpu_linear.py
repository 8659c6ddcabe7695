import pytest
import torch
from peft import LoraConfig, get_peft_model

from medtrain.cpu_linear import onednn_frozen_linears
from testsupport.switched import switched
from testsupport.tiny import ARCHITECTURES, tiny_causal_lm

IDS = torch.tensor([[5, 9, 40, 41, 42, 43, 44, 7], [100, 101, 102, 103, 104, 105, 106, 107]])
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def lora_model(arch: str) -> torch.nn.Module:
    config = LoraConfig(r=4, target_modules=TARGETS, init_lora_weights=False)
    return get_peft_model(tiny_causal_lm(arch, vocab_size=128), config).train()


def loss_and_grads(model: torch.nn.Module) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    model.zero_grad()
    loss = model(input_ids=IDS, labels=IDS, use_cache=False).loss
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    return loss.detach(), grads


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_every_family_trains_its_adapter_with_the_same_loss_and_gradients(arch: str) -> None:
    model = lora_model(arch)
    loss, grads = loss_and_grads(model)
    frozen = sum(type(m) is torch.nn.Linear and not m.weight.requires_grad for m in model.modules())
    with onednn_frozen_linears(model) as count:
        assert count == frozen == switched(model) > 0
        fast_loss, fast_grads = loss_and_grads(model)
    assert switched(model) == 0
    assert torch.allclose(fast_loss, loss, atol=1e-5)
    assert grads.keys() == fast_grads.keys() and len(grads) == 2 * len(TARGETS) * 2
    for name, grad in grads.items():
        assert torch.allclose(fast_grads[name], grad, atol=1e-5, rtol=1e-3), name


def test_trainable_half_precision_and_off_cpu_layers_keep_torchs_path() -> None:
    model = lora_model("llama")
    with onednn_frozen_linears(model):
        lora_layers = [
            m for n, m in model.named_modules() if n.endswith(("lora_A.default", "lora_B.default"))
        ]
        assert lora_layers and not any("forward" in vars(m) for m in lora_layers)
    full = tiny_causal_lm("llama", vocab_size=128)  # every weight trains: nothing is frozen
    with onednn_frozen_linears(full) as count:
        assert count == 0
    with onednn_frozen_linears(
        tiny_causal_lm("llama", vocab_size=128).requires_grad_(False).to(torch.bfloat16)
    ) as count:
        assert count == 0
    with onednn_frozen_linears(
        tiny_causal_lm("llama", vocab_size=128).requires_grad_(False).to("meta")
    ) as count:
        assert count == 0


def test_the_layers_come_back_when_the_block_raises_and_nested_blocks_are_no_ops() -> None:
    model = lora_model("llama")
    inner: list[int] = []

    def fail_inside() -> None:
        with onednn_frozen_linears(model), onednn_frozen_linears(model) as count:
            inner.append(count)
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail_inside()
    assert inner == [0]
    assert switched(model) == 0


def test_a_torch_without_the_op_keeps_its_own_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(*_args: object) -> None:
        raise RuntimeError("No such operator mkldnn::_linear_pointwise")

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", missing)
    model = lora_model("llama")
    with onednn_frozen_linears(model) as count:
        assert count == switched(model) == 0
        loss_and_grads(model)
