"""One contract for medtrain's and medeval's chat helpers: both packages' tests run these cases.

A conversation whose last message is the answer splits into the prompt (everything up to the
assistant header, as `add_generation_prompt=True` renders it) and the completion (exactly what
the template appends for the answer: its closing end-of-turn / eos and any whitespace after it).
A system message is folded into the first user turn ("system\\n\\nuser") where the template has
no system role; a template whose prompt is not a prefix of the whole conversation is refused.
The end-of-turn token that closes the completion must be a stop token at generation time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from testsupport.paths import TEMPLATES
from testsupport.templates import REFERENCE
from testsupport.tokenizers import CHATML, byte_level_tokenizer

MESSAGES = [
    {"role": "system", "content": "S."},
    {"role": "user", "content": "Q?"},
    {"role": "assistant", "content": "A."},
]
"""The conversation every case renders."""


@dataclass(frozen=True)
class ChatCase:
    """A template, how it must be split, and the token that ends the answer."""

    name: str
    """The case id in test reports."""
    tokenizer: Callable[[], Any]
    """Builds a byte-level tokenizer carrying the template and its special tokens."""
    prompt: str | None
    """The expected prompt; None when both packages must refuse the template."""
    completion: str | None
    """The expected completion."""
    end_of_turn: str
    """The special token that closes the answer."""


def _tokenizer(template: str, bos: str, eos: str, *special: str) -> Callable[[], Any]:
    def build() -> Any:
        tokens = dict.fromkeys([bos, eos, *special])
        tok = byte_level_tokenizer(
            {t: i for i, t in enumerate(tokens)}, bos_token=bos, eos_token=eos
        )
        tok.chat_template = template
        return tok

    return build


def _official(family: str, *special: str) -> Callable[[], Any]:
    stem = REFERENCE[family]
    tokens = json.loads((TEMPLATES / f"{stem}.special_tokens.json").read_text())
    template = (TEMPLATES / f"{stem}.jinja").read_text()
    return _tokenizer(template, tokens["bos_token"], tokens["eos_token"], *special)


NOT_APPENDED = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</{{ m['role'] }}>{% endfor %}"
    "{% if add_generation_prompt %}<assistant>\n{% endif %}"
)
"""The generation prompt ends with a newline the assistant turn does not have: not a prefix."""

CASES = [
    ChatCase(
        "chatml",
        _tokenizer(CHATML, "<|im_start|>", "<|im_end|>", "<|endoftext|>"),
        "<|im_start|>system\nS.<|im_end|>\n<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n",
        "A.<|im_end|>\n",
        "<|im_end|>",
    ),
    ChatCase(
        "gemma",
        _official("gemma", "<start_of_turn>", "<end_of_turn>"),
        "<bos><start_of_turn>user\nS.\n\nQ?<end_of_turn>\n<start_of_turn>model\n",
        "A.<end_of_turn>\n",
        "<end_of_turn>",
    ),
    ChatCase("mistral", _official("mistral"), "<s> [INST] S.\n\nQ? [/INST]", " A.</s>", "</s>"),
    ChatCase(
        "llama",
        _official("llama"),
        "<s>[INST] <<SYS>>\nS.\n<</SYS>>\n\nQ? [/INST]",
        " A. </s>",
        "</s>",
    ),
    ChatCase(
        "llama3",
        _official("llama3", "<|start_header_id|>", "<|end_header_id|>"),
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS.<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "A.<|eot_id|>",
        "<|eot_id|>",
    ),
    ChatCase("not-appended", _tokenizer(NOT_APPENDED, "<s>", "</s>"), None, None, "</s>"),
]
"""Every case, by name in `CASES_BY_NAME`."""
CASES_BY_NAME = {case.name: case for case in CASES}
