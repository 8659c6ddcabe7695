import math

import pytest
import torch

from medeval.answer_loss import answer_loss
from medeval.chat import render_answer
from medeval.testset import Example
from testsupport.templates import SYSTEM
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer
from testsupport.variants import QA


def example(i: int) -> Example:
    q, a = QA[i]
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": q},
        {"role": "assistant", "content": a},
    ]
    return Example(f"row:{i}", messages)


def test_answer_is_the_templated_assistant_turn() -> None:
    prompt, answer = render_answer(chatml_byte_tokenizer(), example(0).messages)
    assert prompt.endswith("<|im_start|>assistant\n")
    assert answer == QA[0][1] + "<|im_end|>\n"  # as medtrain trains it (testsupport/chat_cases)


def test_matches_labels_masked_loss() -> None:
    """The HF loss with prompt labels set to -100 is the same answer-only mean NLL."""
    tokenizer = chatml_byte_tokenizer()
    model = tiny_chat_llama(len(tokenizer))
    ex = example(1)
    prompt, answer = render_answer(tokenizer, ex.messages)
    p_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    a_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    labels = [-100] * len(p_ids) + a_ids
    with torch.no_grad():
        expected = model(torch.tensor([p_ids + a_ids]), labels=torch.tensor([labels])).loss.item()
    result = answer_loss(model, tokenizer, [ex], "loss")
    assert result["answer_loss"] == pytest.approx(expected, rel=1e-5)
    assert result["perplexity"] == pytest.approx(math.exp(expected), rel=1e-5)
    assert result["answer_tokens"] == len(a_ids)


def test_token_weighted_over_examples() -> None:
    tokenizer = chatml_byte_tokenizer()
    model = tiny_chat_llama(len(tokenizer))
    one = [answer_loss(model, tokenizer, [example(i)], "loss") for i in (0, 2)]
    both = answer_loss(model, tokenizer, [example(0), example(2)], "loss", batch_size=2)
    weighted = sum(r["answer_loss"] * r["answer_tokens"] for r in one) / sum(
        r["answer_tokens"] for r in one
    )
    assert both["answer_loss"] == pytest.approx(weighted, rel=1e-5)
    assert both["n"] == 2
