"""The held-out answer loss definition on every family, its row order, scoring and run file."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from medtrain.answer_loss import (
    FILE,
    Row,
    heldout_order,
    heldout_rows,
    mean_loss,
    score,
    scored_split,
)
from medtrain.data import IGNORE, tokenize
from medtrain.errors import UserError
from testsupport.templates import REFERENCE, SYSTEM, reference_render
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import CHATML, chatml_byte_tokenizer, vocab_tokenizer
from testsupport.variants import qa_rows, write_variant

MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": "What causes gout?"},
    {"role": "assistant", "content": "Uric acid crystals in the joints.\nSee a doctor."},
]
CLOSING = {
    "mistral": "</s>",
    "llama": "</s>",
    "llama3": "<|eot_id|>",
    "gemma": "<end_of_turn>",
    "chatml": "<|im_end|>",
    "qwen2": "<|im_end|>",
}
"""Family -> the token that closes the assistant turn in its template."""


@pytest.fixture(scope="module")
def any_tokenizer(family_tokenizer: Callable[[str], Any]) -> Callable[[str], Any]:
    """The four official families plus ChatML (byte-level stand-in and Qwen2's real vocab)."""

    def get(family: str) -> Any:
        if family == "chatml":
            return chatml_byte_tokenizer()
        if family == "qwen2":
            tok = vocab_tokenizer("qwen2", Path(os.environ["MEDTRAIN_CACHE"]) / "vocab")
            tok.chat_template = CHATML
            return tok
        return family_tokenizer(family)

    return get


def official_text(family: str) -> str:
    """The conversation as the family's official template (or ChatML) writes it."""
    if family in REFERENCE:
        return reference_render(family, MESSAGES)
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in MESSAGES)


@pytest.mark.parametrize("family", list(CLOSING))
def test_scored_tokens_are_the_turn_through_its_closing_token(
    family: str, any_tokenizer: Callable[[str], Any]
) -> None:
    tok = any_tokenizer(family)
    prompt, answer = scored_split(tok, MESSAGES)
    assert answer.endswith(CLOSING[family])
    official = official_text(family)
    # Exactly the template's text: only the whitespace after the closing token is left out.
    assert official.startswith(prompt + answer)
    assert official[len(prompt + answer) :].strip() == ""
    encoded = tokenize(tok, prompt, answer)
    scored = [t for t in encoded["labels"] if t != IGNORE]
    assert encoded["input_ids"][-len(scored) :] == scored  # nothing after the answer
    assert scored[-1] == tok.convert_tokens_to_ids(CLOSING[family])
    assert scored.count(scored[-1]) == 1
    text = tok.decode(scored, skip_special_tokens=True).strip()
    assert text == MESSAGES[2]["content"]


def test_trailing_newline_is_the_only_difference_from_the_training_labels(
    any_tokenizer: Callable[[str], Any],
) -> None:
    """Training also learns ChatML's "\\n" after <|im_end|>; the answer loss does not score it."""
    from medtrain.chat import render

    tok = any_tokenizer("chatml")
    trained = [t for t in tokenize(tok, *render(tok, MESSAGES))["labels"] if t != IGNORE]
    scored = [t for t in tokenize(tok, *scored_split(tok, MESSAGES))["labels"] if t != IGNORE]
    assert trained[: len(scored)] == scored
    assert tok.decode(trained[len(scored) :]) == "\n"


def test_a_template_that_never_closes_the_turn_is_refused() -> None:
    tok = chatml_byte_tokenizer()
    tok.chat_template = (
        "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
        "{% if add_generation_prompt %}assistant: {% endif %}"
    )
    with pytest.raises(UserError, match="does not close the assistant turn"):
        scored_split(tok, MESSAGES)


def test_rows_are_the_first_n_in_hash_order(tmp_path: Path) -> None:
    variant = write_variant(tmp_path / "v", qa_rows(4, 0), qa_rows(12, 100))
    tok = chatml_byte_tokenizer()
    five = heldout_rows(tok, str(variant), "test", 5)
    ids = [f"medquad:{i}" for i in range(100, 112)]
    by_hash = sorted(ids, key=lambda i: hashlib.sha256(i.encode()).hexdigest())
    assert [r.id for r in five] == by_hash[:5]
    assert [r.id for r in heldout_rows(tok, str(variant), "test", 3)] == by_hash[:3]
    assert len(heldout_rows(tok, str(variant), "test", None)) == 12
    assert heldout_order(["b", "a"]) == heldout_order(["b", "a"])  # no hidden seed


def test_score_is_the_summed_log_softmax_of_the_answer_tokens() -> None:
    tok = chatml_byte_tokenizer()
    model = tiny_chat_llama(len(tok))
    encoded = tokenize(tok, *scored_split(tok, MESSAGES))
    row = Row("r", encoded["input_ids"], encoded["labels"])
    with torch.no_grad():
        logits = model(torch.tensor([row.input_ids])).logits[0].log_softmax(-1)
    expected = -sum(
        float(logits[i - 1, label]) for i, label in enumerate(row.labels) if label != IGNORE
    )
    assert score(model, [row], "test")["r"] == pytest.approx(expected, rel=1e-5)
    assert model.training is False  # tiny_chat_llama is in eval mode, and stays so


def test_mean_is_token_weighted() -> None:
    rows = [Row("a", [1, 2, 3], [IGNORE, 2, 3]), Row("b", [1, 2], [IGNORE, 2])]
    assert mean_loss(rows, {"a": 3.0, "b": 3.0}) == pytest.approx(6.0 / 3)


def test_run_folder_holds_the_rows_medeval_reads(finished_run: Path) -> None:
    lines = [json.loads(x) for x in (finished_run / FILE).read_text().splitlines()]
    assert [set(line) for line in lines] == [{"id", "tokens", "base", "finetuned"}] * 4
    stats = json.loads((finished_run / "trainer_stats.json").read_text())
    tokens = sum(line["tokens"] for line in lines)
    assert stats["eval_answer_rows"] == 4 and stats["eval_answer_tokens"] == tokens
    for variant, key in (("base", "before"), ("finetuned", "after")):
        mean = sum(line[variant] for line in lines) / tokens
        assert stats[f"eval_answer_loss_{key}"] == pytest.approx(mean)
