"""The official chat templates rendered as transformers renders them: the tests' reference."""

from __future__ import annotations

import json

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from testsupport.paths import TEMPLATES

SYSTEM = "Answer the question truthfully, you are a medical professional."
"""The variants' system instruction."""

REFERENCE = {
    "mistral": "mistralai_Mistral-7B-Instruct-v0.2",
    "llama": "meta-llama_Llama-2-7b-chat-hf",
    "gemma": "google_gemma-1.1-7b-it",
    "llama3": "meta-llama_Meta-Llama-3-8B-Instruct",
}
"""data/templates file stem of each family's official template (the families meddata formats)."""

CURRENT = {
    "llama3.1": "meta-llama_Llama-3.1-8B-Instruct",
    "qwen2.5": "Qwen_Qwen2.5-7B-Instruct",
    "gemma2": "google_gemma-2-9b-it",
    "mistral-v0.3": "mistralai_Mistral-7B-Instruct-v0.3",
}
"""The current models' templates (medtrain recipes that train on another family's `messages`)."""

TEMPLATE_FILES = {**REFERENCE, **CURRENT}
"""Every family's data/templates file stem."""

NO_SYSTEM_ROLE = frozenset({"gemma", "gemma2"})
"""Families whose template refuses a system message (it is folded into the first user turn)."""


def _raise(message: str) -> None:
    raise TemplateError(message)


def template_text(family: str) -> str:
    """A family's official chat template (data/templates)."""
    return (TEMPLATES / f"{TEMPLATE_FILES[family]}.jinja").read_text()


def official_render(stem: str, messages: list[dict[str, str]], add_generation_prompt: bool) -> str:
    """Render like transformers' apply_chat_template: sandboxed, trim/lstrip blocks."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    template = env.from_string((TEMPLATES / f"{stem}.jinja").read_text())
    tokens = json.loads((TEMPLATES / f"{stem}.special_tokens.json").read_text())
    return template.render(
        messages=messages,
        bos_token=tokens["bos_token"],
        eos_token=tokens["eos_token"],
        add_generation_prompt=add_generation_prompt,
    )


def fold_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """The model makers' convention where there is no system role: system + "\\n\\n" + user."""
    if not messages or messages[0]["role"] != "system":
        return messages
    system, user, *rest = messages
    return [{"role": "user", "content": f"{system['content']}\n\n{user['content']}"}, *rest]


def reference_render(family: str, messages: list[dict[str, str]]) -> str:
    """A whole conversation in a family's official template (system folded where refused)."""
    if family in NO_SYSTEM_ROLE:
        messages = fold_system(messages)
    return official_render(TEMPLATE_FILES[family], messages, add_generation_prompt=False)
