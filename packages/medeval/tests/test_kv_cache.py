import pytest
import torch
from transformers import DynamicCache
from transformers.cache_utils import DynamicLayer, DynamicSlidingWindowLayer

from medeval.kv_cache import ReservedLayer, reserved_cache
from testsupport.tiny import ARCHITECTURES, tiny_causal_lm


def _states(batch: int, length: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(batch, 2, length, 4, generator=generator),
        torch.randn(batch, 2, length, 6, generator=generator),  # values may be wider
    )


def test_layer_equals_concatenation_through_growth_crop_batch_selection_and_reset() -> None:
    reserved, plain = ReservedLayer(reserve=2), DynamicLayer()
    steps = [5, 1, 1, 1, 3, 1]  # the prompt, then more than the 2 reserved positions
    for seed, length in enumerate(steps):
        got, want = (
            reserved.update(*_states(3, length, seed)),
            plain.update(*_states(3, length, seed)),
        )
        assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
    reserved.crop(-2)
    plain.crop(-2)
    reserved.batch_select_indices(torch.tensor([2, 0]))
    plain.batch_select_indices(torch.tensor([2, 0]))
    for seed, length in enumerate([1, 4], start=10):
        got, want = (
            reserved.update(*_states(2, length, seed)),
            plain.update(*_states(2, length, seed)),
        )
        assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
    assert reserved.get_seq_length() == plain.get_seq_length() == sum(steps) - 2 + 5
    reserved.reset()  # a reused cache starts over, its buffers released
    plain.reset()
    assert reserved.get_seq_length() == 0
    got, want = reserved.update(*_states(1, 3, 20)), plain.update(*_states(1, 3, 20))
    assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))


def test_layer_writes_in_place_while_its_room_lasts() -> None:
    layer = ReservedLayer(reserve=3)
    layer.update(*_states(1, 4, 0))
    first = layer.keys.data_ptr()
    for seed in range(1, 4):
        layer.update(*_states(1, 1, seed))
        assert layer.keys.data_ptr() == first  # no copy of what is cached
    layer.update(*_states(1, 1, 9))
    assert layer.keys.data_ptr() != first and layer.get_seq_length() == 8


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_generation_equals_the_dynamic_cache_on_every_family(arch: str) -> None:
    # Mistral v0.3, the recipes' Mistral, has no sliding window (transformers' default has one)
    window = {"sliding_window": None} if arch == "mistral" else {}
    model = tiny_causal_lm(arch, vocab_size=97, pad_token_id=0, eos_token_id=96, **window).eval()
    ids = torch.randint(1, 96, (3, 20), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[0, :7] = 0  # left padding, as medeval batches prompts
    mask[1, :2] = 0
    common = {
        "input_ids": ids, "attention_mask": mask, "max_new_tokens": 12, "do_sample": False,
        "output_logits": True, "return_dict_in_generate": True,
    }  # fmt: skip
    ours, theirs = reserved_cache(model.config, 12), DynamicCache(config=model.config)
    got, want = model.generate(**common, cache=ours), model.generate(**common, cache=theirs)
    assert torch.equal(got.sequences, want.sequences)
    assert all(torch.equal(g, w) for g, w in zip(got.logits, want.logits, strict=True))
    # plain layers reserved; Gemma-2's sliding-window layers (20 + 12 tokens pass its window of
    # 16) keep transformers' own class
    assert [type(layer) for layer in ours.layers] == [
        ReservedLayer if type(layer) is DynamicLayer else type(layer) for layer in theirs.layers
    ]
    kinds = {type(layer) for layer in ours.layers}
    assert ReservedLayer in kinds
    assert (DynamicSlidingWindowLayer in kinds) == (arch == "gemma2")
