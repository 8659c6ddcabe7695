import math

import pytest
import torch

from medeval.chat import render_prompt
from medeval.ending import EndOnlyWhenLikely
from medeval.generation import GenerationSettings, generate
from testsupport.templates import SYSTEM
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer
from testsupport.variants import QA

END, OTHER = 0, 1


def scores_with(p_end: float, p_other: float) -> torch.Tensor:
    """Logits of 10 tokens: END at p_end, OTHER at p_other, the rest sharing what is left."""
    rest = (1 - p_end - p_other) / 8
    return torch.tensor([[math.log(p_end), math.log(p_other)] + [math.log(rest)] * 8])


@pytest.mark.parametrize(
    ("p_end", "p_other", "ends"),
    [
        (
            0.40,
            0.10,
            False,
        ),  # end is the likeliest token but going on is likelier: plain greedy ends
        (0.50, 0.10, False),
        (0.60, 0.10, True),
        (0.05, 0.80, False),
    ],
)
def test_end_stays_possible_only_above_one_half(p_end: float, p_other: float, ends: bool) -> None:
    scores = scores_with(p_end, p_other)
    ruled = EndOnlyWhenLikely([END])(torch.tensor([[5, 6]]), scores.clone())
    assert bool(ruled[0, END] == scores[0, END]) is ends
    assert (int(ruled.argmax()) == END) is ends
    assert torch.equal(ruled[0, 1:], scores[0, 1:])  # only the end token is ever touched


def test_several_stop_ids_count_together_and_rows_apart() -> None:
    two = torch.log(torch.tensor([[0.3, 0.3, 0.4], [0.2, 0.2, 0.6]]))
    ruled = EndOnlyWhenLikely([0, 1, 99])(torch.zeros(2, 1, dtype=torch.long), two.clone())
    assert torch.equal(ruled[0], two[0])  # 0.6 to end in all: allowed
    assert torch.isinf(ruled[1, :2]).all() and ruled[1, 2] == two[1, 2]


def test_greedy_answers_run_on_past_an_unlikely_end() -> None:
    """A random model's third greedy token made the stop token ends plain greedy there; the rule
    only ends where the stop token has most of the probability, which a random model never gives."""
    tokenizer = chatml_byte_tokenizer()
    model = tiny_chat_llama(len(tokenizer))
    prompt = render_prompt(
        tokenizer, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QA[0][0]}]
    )
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        greedy = model.generate(torch.tensor([ids]), max_new_tokens=12, do_sample=False)[
            0, len(ids) :
        ]
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, int(greedy[2])]
    plain = generate(model, tokenizer, [prompt], GenerationSettings(max_new_tokens=12))[0]
    ruled = GenerationSettings(max_new_tokens=12, end_when_likely=True)
    assert plain.n_tokens == 3
    assert generate(model, tokenizer, [prompt], ruled)[0].n_tokens == 12
    sampled = GenerationSettings(max_new_tokens=12, temperature=1e-4, end_when_likely=True)
    assert generate(model, tokenizer, [prompt], sampled)[0].n_tokens == 3  # greedy only
