import pytest
import torch
from transformers import NoRepeatNGramLogitsProcessor

from medeval.chat import render_prompt
from medeval.generation import GenerationSettings, decoding_kwargs, generate, left_pad
from medeval.repeats import NoRepeatInAnswer
from testsupport.templates import SYSTEM
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer
from testsupport.variants import QA

VOCAB = 11


def banned(processor: NoRepeatInAnswer, rows: list[list[int]]) -> list[set[int]]:
    scores = processor(torch.tensor(rows), torch.zeros(len(rows), VOCAB))
    return [set(torch.nonzero(row == float("-inf")).flatten().tolist()) for row in scores]


def test_bans_only_the_token_that_completes_an_answer_ngram() -> None:
    prompt = [5, 6, 7, 5, 6]  # "5 6" followed by 7 in the prompt: not an answer n-gram
    answer = [1, 2, 3, 4, 1, 2]  # "1 2" was followed by 3 in the answer
    assert banned(NoRepeatInAnswer(3, len(prompt)), [prompt + answer]) == [{3}]
    assert banned(NoRepeatInAnswer(3, len(prompt)), [prompt + answer[:-1]]) == [set()]
    assert banned(NoRepeatInAnswer(3, len(prompt)), [[*prompt, 5, 6]]) == [set()]


def test_rows_are_banned_separately() -> None:
    rows = [[9, 1, 2, 1], [9, 3, 3, 3]]  # bigrams: row 0 "1 2" -> ban 2 after 1; row 1 "3 3"
    assert banned(NoRepeatInAnswer(2, 1), rows) == [{2}, {3}]


def test_without_a_prompt_it_is_transformers_no_repeat_ngram() -> None:
    generator = torch.Generator().manual_seed(0)
    for n in (1, 2, 3, 4):
        ids = torch.randint(0, 3, (6, 24), generator=generator)  # 3 ids: many repeats
        scores = torch.randn(6, VOCAB, generator=generator)
        ours = NoRepeatInAnswer(n, 0)(ids, scores.clone())
        theirs = NoRepeatNGramLogitsProcessor(n)(ids, scores.clone())
        assert torch.equal(ours, theirs)
        assert (ours == float("-inf")).any()


def test_rejects_nonsense_sizes() -> None:
    with pytest.raises(ValueError, match="ngram_size"):
        NoRepeatInAnswer(0, 3)


def test_generated_answers_repeat_no_ngram_of_their_own() -> None:
    """A random model loops under greedy decoding; with the ban no 3-gram of an answer repeats,
    and generate() applies the ban."""
    tokenizer = chatml_byte_tokenizer()
    model = tiny_chat_llama(len(tokenizer))
    prompts = [
        render_prompt(
            tokenizer, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": q}]
        )
        for q, _ in QA
    ]
    ids, mask = left_pad([tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts], 0)
    width, stops = ids.shape[1], [tokenizer.eos_token_id]

    def trigrams(settings: GenerationSettings) -> list[list[tuple[int, ...]]]:
        with torch.no_grad():
            out = model.generate(
                input_ids=ids, attention_mask=mask, max_new_tokens=40, pad_token_id=0,
                eos_token_id=stops, **decoding_kwargs(settings, width, stops),
            )  # fmt: skip
        rows = out[:, width:].tolist()
        return [list(zip(row, row[1:], row[2:], strict=False)) for row in rows]

    loose = trigrams(GenerationSettings())
    assert any(len(set(row)) < len(row) for row in loose)
    assert all(len(set(row)) == len(row) for row in trigrams(GenerationSettings(no_repeat_ngram=3)))
    answers = {
        n: [
            g.text
            for g in generate(model, tokenizer, prompts, GenerationSettings(40, no_repeat_ngram=n))
        ]
        for n in (0, 3)
    }
    assert answers[0] != answers[3]
