"""Rendering `messages` with the model's template gives the official format, split at the answer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from medtrain.chat import OFFICIAL_TEMPLATES, render, split_rendered
from medtrain.data import trained_token_ids
from medtrain.errors import UserError
from testsupport.chat_cases import CASES, ChatCase
from testsupport.chat_cases import MESSAGES as CASE_MESSAGES
from testsupport.paths import REPO, TEMPLATES
from testsupport.templates import REFERENCE, SYSTEM, TEMPLATE_FILES, reference_render

MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "What causes  gout?"},
    {"role": "assistant", "content": "Uric acid crystals in the joints.\nSee a doctor."},
]


def test_shipped_templates_are_the_official_ones() -> None:
    assert set(OFFICIAL_TEMPLATES) == set(TEMPLATE_FILES)
    for family in OFFICIAL_TEMPLATES:
        shipped = (resources.files("medtrain") / "templates" / f"{family}.jinja").read_bytes()
        assert shipped == (TEMPLATES / f"{TEMPLATE_FILES[family]}.jinja").read_bytes()


@pytest.mark.parametrize("family", list(TEMPLATE_FILES))
def test_rendering_equals_the_official_template(
    family: str, family_tokenizer: Callable[[str], Any]
) -> None:
    prompt, completion = render(family_tokenizer(family), MESSAGES)
    assert prompt + completion == reference_render(family, MESSAGES)
    assert completion.strip().startswith("Uric acid")
    assert "Uric" not in prompt


@pytest.fixture(scope="module")
def built_short_variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four short variants, built from the embedded raw data by meddata's own CLI."""
    out = tmp_path_factory.mktemp("variants")
    names = [f"medical_{family}_instruct_dataset_short" for family in REFERENCE]
    command = [
        str(Path(sys.executable).parent / "meddata"),
        "build",
        "--raw",
        str(REPO / "data" / "raw"),
    ]
    command += ["--out", str(out / "processed"), "--clean-dir", str(out / "clean")]
    subprocess.run([*command, *(arg for n in names for arg in ("--variants", n))], check=True)
    return out / "processed"


@pytest.mark.parametrize("family", list(REFERENCE))
def test_rendering_equals_the_variants_prompt_column(
    family: str, family_tokenizer: Callable[[str], Any], built_short_variants: Path
) -> None:
    import datasets

    folder = built_short_variants / f"medical_{family}_instruct_dataset_short"
    rows = datasets.load_dataset(str(folder), split="test").select(range(50))
    tok = family_tokenizer(family)
    for row in rows:
        prompt, completion = render(tok, row["messages"])
        assert prompt + completion == row["prompt"], row["id"]
        assert split_rendered(tok, row["messages"], row["prompt"]) == (prompt, completion)


def test_prompt_column_that_does_not_match_is_refused(
    family_tokenizer: Callable[[str], Any],
) -> None:
    with pytest.raises(UserError, match="does not start with"):
        split_rendered(family_tokenizer("mistral"), MESSAGES, "[INST] other [/INST] x</s>")


def test_chatml_template_of_the_tokenizer(
    tmp_path: Path, family_tokenizer: Callable[[str], Any]
) -> None:
    tok = family_tokenizer("mistral")
    chatml = tmp_path / "chatml.jinja"
    chatml.write_text(
        "{% for m in messages %}"
        "{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
    )
    from medtrain.chat import set_template

    original = tok.chat_template
    try:
        set_template(tok, str(chatml))
        prompt, completion = render(tok, MESSAGES)
    finally:
        tok.chat_template = original
    assert prompt.endswith("<|im_start|>assistant\n")
    assert completion == MESSAGES[2]["content"] + "<|im_end|>\n"


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_agrees_with_the_shared_chat_cases(case: ChatCase) -> None:
    """The same cases medeval's tests run: same prompt, same completion, same end of turn."""
    tokenizer = case.tokenizer()
    if case.prompt is None:
        with pytest.raises(UserError, match="differently with and without the answer"):
            render(tokenizer, CASE_MESSAGES)
        return
    assert render(tokenizer, CASE_MESSAGES) == (case.prompt, case.completion)
    assert tokenizer.convert_tokens_to_ids(case.end_of_turn) in trained_token_ids(tokenizer)


TWO_TURNS = [
    {"role": "user", "content": "What is gout?"},
    {"role": "assistant", "content": "A form of arthritis."},
    {"role": "user", "content": "What causes it?"},
    {"role": "assistant", "content": "Uric acid crystals in the joints.\nSee a doctor."},
]


@pytest.mark.parametrize(
    "messages",
    [[MESSAGES[0], {"role": "user", "content": "What causes gout?"}, MESSAGES[2]], TWO_TURNS,
     [MESSAGES[0], *TWO_TURNS]],
    ids=["system", "two-turns", "system-two-turns"],
)  # fmt: skip
def test_mistral_v03_template_gives_mistral_commons_token_ids(
    messages: list[dict[str, str]], family_tokenizer: Callable[[str], Any]
) -> None:
    """The derived v0.3 template (data/templates/README.md) against mistral-common's v3
    instruct tokenizer: the system message goes to the last user turn, also in training text.
    (No runs of spaces here: the transformers conversion of the SentencePiece model splits
    them differently from SentencePiece itself, a tokenizer matter, not the template's.)"""
    from mistral_common.protocol.instruct.messages import AssistantMessage, UserMessage
    from mistral_common.protocol.instruct.request import InstructRequest
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    system = messages[0]["content"] if messages[0]["role"] == "system" else None
    kinds = {"user": UserMessage, "assistant": AssistantMessage}
    turns = [kinds[m["role"]](content=m["content"]) for m in messages if m["role"] != "system"]
    request = InstructRequest(messages=turns, system_prompt=system)
    expected = MistralTokenizer.v3().instruct_tokenizer.encode_instruct(request).tokens
    tok = family_tokenizer("mistral-v0.3")
    prompt, completion = render(tok, messages)
    assert tok(prompt + completion, add_special_tokens=False)["input_ids"] == expected
