"""Render a variant's `messages` with the model's own chat template into prompt + completion.

The prompt is everything the model is given at inference (up to the assistant header); the
completion is what it must learn to produce, including the closing end-of-turn / eos text.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from medtrain.errors import UserError

OFFICIAL_TEMPLATES = (
    "mistral",
    "llama",
    "gemma",
    "llama3",
    "llama3.1",
    "qwen2.5",
    "gemma2",
    "mistral-v0.3",
)
"""Chat templates shipped with medtrain (byte copies of data/templates; see its README)."""

Message = dict[str, str]


def template_text(spec: str) -> str | None:
    """The Jinja text a recipe's `model.chat_template` names (None: keep the tokenizer's own)."""
    if spec == "tokenizer":
        return None
    if spec in OFFICIAL_TEMPLATES:
        return (resources.files("medtrain") / "templates" / f"{spec}.jinja").read_text()
    path = Path(spec)
    if not path.is_file():
        raise UserError(
            f"model.chat_template '{spec}' is neither 'tokenizer', one of "
            f"{', '.join(OFFICIAL_TEMPLATES)}, nor an existing .jinja file"
        )
    return path.read_text()


def set_template(tokenizer: Any, spec: str) -> None:
    text = template_text(spec)
    if text is not None:
        tokenizer.chat_template = text
    if not getattr(tokenizer, "chat_template", None):
        raise UserError("the tokenizer has no chat template; set model.chat_template in the recipe")


def fold_system(messages: list[Message]) -> list[Message]:
    """Put the system text at the start of the first user turn, as the model makers advise
    for templates without a system role."""
    system, user, *rest = messages
    return [{"role": "user", "content": f"{system['content']}\n\n{user['content']}"}, *rest]


def _apply(tokenizer: Any, messages: list[Message], generation_prompt: bool) -> str:
    text = tokenizer.apply_chat_template(
        messages, tokenize=False, add_generation_prompt=generation_prompt
    )
    return str(text)


def conversation(tokenizer: Any, messages: list[Message]) -> list[Message]:
    """The messages as the template accepts them (system folded where it has no system role)."""
    messages = [{"role": m["role"], "content": m["content"]} for m in messages]
    try:
        _apply(tokenizer, messages, False)
    except jinja2.TemplateError:
        if messages[0]["role"] != "system":
            raise
        messages = fold_system(messages)
    return messages


def render(tokenizer: Any, messages: list[Message]) -> tuple[str, str]:
    """(prompt, completion) of a conversation whose last message is the assistant answer."""
    if not messages or messages[-1]["role"] != "assistant":
        raise UserError("a training conversation must end with the assistant answer")
    messages = conversation(tokenizer, messages)
    full = _apply(tokenizer, messages, False)
    prompt = _apply(tokenizer, messages[:-1], True)
    if not full.startswith(prompt):
        raise UserError(
            "the chat template renders the prompt differently with and without the answer; "
            "set model.chat_template to a template whose turns are appended"
        )
    return prompt, full[len(prompt) :]


def split_rendered(tokenizer: Any, messages: list[Message], text: str) -> tuple[str, str]:
    """Split a pre-rendered conversation (the variant's `prompt` column) at the answer."""
    prompt, _ = render(tokenizer, messages)
    if not text.startswith(prompt):
        raise UserError(
            "the `prompt` column does not start with the model's rendering of the question; "
            "train on `messages` (data.text_field=messages) or use the family's variant"
        )
    return prompt, text[len(prompt) :]
