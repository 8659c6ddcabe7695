from medeval.chat import render_answer, render_prompt
from testsupport.templates import SYSTEM
from testsupport.tokenizers import chatml_byte_tokenizer

# Gemma-like: no system role, turns closed by <end_of_turn>.
GEMMA_LIKE = (
    "{% for m in messages %}{% if m['role'] == 'system' %}"
    "{{ raise_exception('System role not supported') }}{% endif %}"
    "<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}\n"
    "{{ m['content'] }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "What is asthma?"},
    {"role": "assistant", "content": "A lung disease."},
]


def test_uses_the_tokenizer_template() -> None:
    prompt = render_prompt(chatml_byte_tokenizer(), MESSAGES[:2])
    assert prompt == (
        f"<|im_start|>system\n{SYSTEM}<|im_end|>\n<|im_start|>user\nWhat is asthma?<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_system_is_folded_where_the_template_has_no_system_role() -> None:
    tokenizer = chatml_byte_tokenizer()
    tokenizer.chat_template = GEMMA_LIKE
    prompt, answer = render_answer(tokenizer, MESSAGES)
    assert (
        prompt
        == f"<start_of_turn>user\n{SYSTEM}\n\nWhat is asthma?<end_of_turn>\n<start_of_turn>model\n"
    )
    assert answer == "A lung disease.<end_of_turn>"
