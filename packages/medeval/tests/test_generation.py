import pytest
import torch
from transformers import GenerationConfig

from medeval.chat import render_prompt, stop_token_ids
from medeval.generation import GenerationSettings, generate, rules_note
from medeval.kv_cache import ReservedLayer
from testsupport.switched import switched, switched_at_each_head_call
from testsupport.templates import SYSTEM
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer
from testsupport.variants import QA


@pytest.fixture(scope="module")
def setup() -> tuple[torch.nn.Module, object, list[str]]:
    tokenizer = chatml_byte_tokenizer()
    prompts = [
        render_prompt(
            tokenizer, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]
        )
        for q, _ in QA
    ]
    return tiny_chat_llama(len(tokenizer)), tokenizer, prompts


def test_batched_equals_one_at_a_time(setup: tuple[torch.nn.Module, object, list[str]]) -> None:
    model, tokenizer, prompts = setup
    single = generate(
        model, tokenizer, prompts, GenerationSettings(max_new_tokens=12, batch_size=1)
    )
    batched = generate(
        model, tokenizer, prompts, GenerationSettings(max_new_tokens=12, batch_size=4)
    )
    assert batched == single
    assert all(g.n_tokens == 12 for g in single)  # a random model never says <|im_end|>


def test_stops_at_any_configured_end_of_turn(
    setup: tuple[torch.nn.Module, object, list[str]],
) -> None:
    """A second eos id in generation_config (like Gemma's <end_of_turn>) ends the answer too."""
    _, tokenizer, prompts = setup
    model = tiny_chat_llama(len(tokenizer))
    free = generate(model, tokenizer, prompts[:1], GenerationSettings(max_new_tokens=12))[0]
    ids = tokenizer(prompts[0], add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        greedy = model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False)[
            0, len(ids) :
        ]
    stop = int(greedy[2])
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, stop]
    cut = generate(model, tokenizer, prompts[:1], GenerationSettings(max_new_tokens=12))[0]
    first = greedy.tolist().index(stop)
    assert cut.n_tokens == first + 1 < free.n_tokens
    assert cut.text == tokenizer.decode(greedy[:first], skip_special_tokens=True).strip()


def test_stop_ids_include_family_end_of_turn_markers() -> None:
    tokenizer = chatml_byte_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": ["<end_of_turn>"]})
    config = GenerationConfig(eos_token_id=[7, 9])
    ids = stop_token_ids(tokenizer, config)
    assert {7, 9, tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<end_of_turn>")} <= set(
        ids
    )


def test_sampling_is_seeded(setup: tuple[torch.nn.Module, object, list[str]]) -> None:
    """Same seed, same answers; another seed, other answers; and sampling is not greedy."""
    model, tokenizer, prompts = setup

    def answers(temperature: float, seed: int) -> list[str]:
        settings = GenerationSettings(max_new_tokens=8, temperature=temperature, seed=seed)
        return [g.text for g in generate(model, tokenizer, prompts, settings)]

    torch.manual_seed(123)  # the seed, not the state the global RNG happens to be in, decides
    first = answers(1.0, seed=3)
    assert answers(1.0, seed=3) == first
    assert answers(1.0, seed=4) != first
    assert answers(0.0, seed=3) != first


def test_rules_note_names_each_rule_in_force() -> None:
    both = rules_note(GenerationSettings(no_repeat_ngram=3, end_when_likely=True))
    assert "above 1/2" in both and "no 3 tokens" in both and "--end-greedy" in both
    assert "above 1/2" not in rules_note(GenerationSettings(no_repeat_ngram=4))
    assert rules_note(GenerationSettings()) == "Both models: plain decoding, no extra rules."


def test_decoding_runs_through_onednn_and_gives_the_layers_back(
    setup: tuple[torch.nn.Module, object, list[str]],
) -> None:
    model, tokenizer, prompts = setup
    with switched_at_each_head_call(model) as seen:
        generate(model, tokenizer, prompts[:2], GenerationSettings(max_new_tokens=3))
    linears = sum(isinstance(m, torch.nn.Linear) for m in model.modules())
    mlps = model.config.num_hidden_layers  # each fused into one chain
    assert seen and set(seen) == {linears + mlps}
    assert switched(model) == 0


def test_decoding_reserves_the_answers_room_in_the_cache(
    setup: tuple[torch.nn.Module, object, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    model, tokenizer, prompts = setup
    caches: list[object] = []
    own = type(model).generate

    def spy(self: torch.nn.Module, *args: object, **kwargs: object) -> object:
        caches.append(kwargs.get("cache"))
        return own(self, *args, **kwargs)

    monkeypatch.setattr(type(model), "generate", spy)
    settings = GenerationSettings(max_new_tokens=5, batch_size=4)
    reserved = generate(model, tokenizer, prompts[:4], settings)
    (cache,) = caches
    assert all(isinstance(layer, ReservedLayer) for layer in cache.layers)
    assert {layer.reserve for layer in cache.layers} == {5}
    # a generation config naming its own cache (Gemma-2's published "hybrid") keeps it:
    # transformers refuses a cache passed beside one
    monkeypatch.setattr(model.generation_config, "cache_implementation", "static")
    assert generate(model, tokenizer, prompts[:4], settings) == reserved
    assert caches[1:] == [None]
