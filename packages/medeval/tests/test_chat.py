import pytest

from medeval.chat import render_answer, render_prompt, stop_token_ids
from medeval.errors import EvalInputError
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


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_agrees_with_the_shared_chat_cases(case: ChatCase) -> None:
    """The same cases medtrain's tests run: same prompt, same answer text, same end of turn."""
    tokenizer = case.tokenizer()
    if case.prompt is None:
        with pytest.raises(EvalInputError, match="differently with and without the answer"):
            render_answer(tokenizer, MESSAGES)
        return
    assert render_answer(tokenizer, MESSAGES) == (case.prompt, case.completion)
    assert render_prompt(tokenizer, MESSAGES[:-1]) == case.prompt
    assert tokenizer.convert_tokens_to_ids(case.end_of_turn) in stop_token_ids(tokenizer)
