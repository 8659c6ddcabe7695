"""Render conversations with the tokenizer's own chat template and find its end-of-turn tokens."""

from __future__ import annotations

from typing import Any

import jinja2

# End-of-turn markers of the supported families; added to the stop set when the vocab has them.
END_OF_TURN_TOKENS = ("<|im_end|>", "<end_of_turn>", "<|eot_id|>", "<|end|>", "</s>")


def _apply(tokenizer: Any, messages: list[dict[str, str]], generation_prompt: bool) -> str:
    return str(
        tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=generation_prompt
        )
    )


def _accepted(tokenizer: Any, messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Templates without a system role (Gemma) raise on one: fold it into the first user turn."""
    try:
        _apply(tokenizer, messages, False)
    except jinja2.TemplateError:
        if len(messages) < 2 or messages[0]["role"] != "system":
            raise
        system, user, *rest = messages
        return [{"role": "user", "content": f"{system['content']}\n\n{user['content']}"}, *rest]
    return messages


def render_prompt(tokenizer: Any, messages: list[dict[str, str]]) -> str:
    """The conversation so far plus the assistant header the model answers after."""
    return _apply(tokenizer, _accepted(tokenizer, messages), True)


def stop_token_ids(tokenizer: Any, generation_config: Any = None) -> list[int]:
    """Every id that ends a turn: generation_config's and the tokenizer's eos, known markers."""
    ids: set[int] = set()
    configured = getattr(generation_config, "eos_token_id", None)
    if configured is not None:
        ids.update(configured if isinstance(configured, list) else [configured])
    if tokenizer.eos_token_id is not None:
        ids.add(int(tokenizer.eos_token_id))
    vocab = tokenizer.get_vocab()
    ids.update(vocab[token] for token in END_OF_TURN_TOKENS if token in vocab)
    return sorted(ids)


def encode(tokenizer: Any, text: str) -> list[int]:
    """Token ids of already-rendered text: the template wrote any BOS itself."""
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])
