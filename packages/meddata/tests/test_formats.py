"""Every family's rendering equals its official chat template, rendered as transformers does."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meddata.formats import FORMATS, PY_WHITESPACE, get_format, messages_expr, render, render_expr
from testsupport.templates import NO_SYSTEM_ROLE, REFERENCE, fold_system, official_render


def reference(family: str, messages: list[dict[str, str]]) -> str:
    if family in NO_SYSTEM_ROLE:
        messages = fold_system(messages)
    stem = REFERENCE[family]
    return official_render(stem, messages, add_generation_prompt=messages[-1]["role"] == "user")


def conversation(system: str | None, user: str, answer: str | None) -> list[dict[str, str]]:
    turns = [("system", system), ("user", user), ("assistant", answer)]
    return [{"role": r, "content": c} for r, c in turns if c is not None]


text = st.text(
    alphabet=st.sampled_from([*"abcXYZ .?!\n\t-", " ", "\u00a0", "\u2003", "é", "\x1c"]),
    max_size=30,
)

CASES = [
    conversation(
        "Answer the question truthfully, you are a medical professional.",
        "What is flu?",
        "A virus.",
    ),
    conversation(None, "What is flu?", "A virus."),
    conversation("Be brief.", "  What is flu?\n", "\n A virus.  "),
    conversation("Be brief.", "What is flu?", None),
    conversation(None, "What is flu?", None),
]


@pytest.mark.parametrize("family", sorted(REFERENCE))
@pytest.mark.parametrize("messages", CASES)
def test_render_matches_official_template(family: str, messages: list[dict[str, str]]) -> None:
    assert render(family, messages) == reference(family, messages)


@pytest.mark.parametrize("family", sorted(REFERENCE))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(system=st.none() | text, user=text, answer=st.none() | text)
def test_render_matches_official_template_for_any_text(
    family: str, system: str | None, user: str, answer: str | None
) -> None:
    messages = conversation(system, user, answer)
    assert render(family, messages) == reference(family, messages)


def test_column_rendering_equals_single_rendering() -> None:
    frame = pl.DataFrame(
        {
            "instruction": [c[0]["content"] if c[0]["role"] == "system" else None for c in CASES],
            "input": [next(m["content"] for m in c if m["role"] == "user") for c in CASES],
            "output": [c[-1]["content"] if c[-1]["role"] == "assistant" else None for c in CASES],
        }
    )
    for family in FORMATS:
        column = frame.select(render_expr(get_format(family))).to_series().to_list()
        assert column == [render(family, c) for c in CASES]


def test_messages_column_holds_the_three_turns() -> None:
    frame = pl.DataFrame({"instruction": ["s"], "input": ["q"], "output": ["a"]})
    assert frame.select(messages_expr()).item().to_list() == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a"},
    ]


def _pieces_to_text(pieces: str) -> str:
    """Turn mistral-common's sentencepiece text back into the string it encodes."""
    out = bytearray()
    i = 0
    while i < len(pieces):
        if pieces.startswith("<0x", i) and pieces[i + 5 : i + 6] == ">":
            out.append(int(pieces[i + 3 : i + 5], 16))
            i += 6
        else:
            out += pieces[i].replace("▁", " ").encode()
            i += 1
    return out.decode()


@pytest.mark.parametrize("messages", CASES)
def test_mistral_matches_mistral_common(messages: list[dict[str, str]]) -> None:
    from mistral_common.protocol.instruct.messages import (
        AssistantMessage,
        SystemMessage,
        UserMessage,
    )
    from mistral_common.protocol.instruct.request import ChatCompletionRequest
    from mistral_common.protocol.instruct.validator import ValidationMode
    from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

    kinds: dict[str, Any] = {
        "system": SystemMessage,
        "user": UserMessage,
        "assistant": AssistantMessage,
    }
    training = messages[-1]["role"] == "assistant"
    tokenizer = MistralTokenizer.from_file(
        MistralTokenizer._data_path() / "tokenizer.model.v1",
        mode=ValidationMode.finetuning if training else ValidationMode.test,
    )
    request = ChatCompletionRequest(
        messages=[kinds[m["role"]](content=m["content"]) for m in messages]
    )
    tokens = tokenizer.encode_chat_completion(request).tokens
    pieces = "".join(tokenizer.instruct_tokenizer.tokenizer.id_to_piece(t) for t in tokens)
    assert render("mistral", messages) == _pieces_to_text(pieces)


def test_whitespace_set_is_pythons() -> None:
    assert set(PY_WHITESPACE) == {c for c in map(chr, range(0x3000 + 1)) if c.isspace()}


def test_upstream_defects_are_absent() -> None:
    messages = conversation("Answer truthfully.", "What is flu?", "A virus.")
    for family in FORMATS:
        rendered = render(family, messages)
        assert "\\n" not in rendered
        assert "[s]" not in rendered and "[/s]" not in rendered
    gemma = render("gemma", messages)
    assert "<start_of_turn>model\nA virus.<end_of_turn>\n" in gemma
    assert not gemma.endswith("<end_of_turn>model")


def test_render_rejects_other_shapes() -> None:
    with pytest.raises(ValueError, match="one exchange"):
        render("mistral", [{"role": "assistant", "content": "x"}])
    with pytest.raises(ValueError, match="known: mistral"):
        get_format("falcon")
