import pytest

from medeval.chat import render_prompt, stop_token_ids
from testsupport.chat_cases import CASES, MESSAGES, ChatCase
from testsupport.templates import SYSTEM
from testsupport.tokenizers import chatml_byte_tokenizer


def test_uses_the_tokenizer_template() -> None:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "What is asthma?"},
    ]
    prompt = render_prompt(chatml_byte_tokenizer(), messages)
    assert prompt == (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nWhat is asthma?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.prompt is not None], ids=lambda case: case.name
)
def test_agrees_with_the_shared_chat_cases(case: ChatCase) -> None:
    """The same cases medtrain's tests run: same prompt, same end of turn. (medeval scores no
    answer text: the answer loss is medtrain's, read from answer_loss.jsonl.)"""
    tokenizer = case.tokenizer()
    assert render_prompt(tokenizer, MESSAGES[:-1]) == case.prompt
    assert tokenizer.convert_tokens_to_ids(case.end_of_turn) in stop_token_ids(tokenizer)
