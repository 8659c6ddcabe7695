"""medeval reads the answer loss medtrain wrote (answer_loss.jsonl) and never recomputes it."""

import json
import math
from pathlib import Path

import pytest

from medeval.answer_loss import FILE, items, read_rows, summary
from medeval.errors import EvalInputError

ROWS = [
    {"id": "a", "tokens": 10, "base": 30.0, "finetuned": 20.0},
    {"id": "b", "tokens": 30, "base": 30.0, "finetuned": 30.0},
]


def write(folder: Path, lines: list[str]) -> Path:
    (folder / FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def test_summary_is_token_weighted(tmp_path: Path) -> None:
    rows = read_rows(write(tmp_path, [json.dumps(r) for r in ROWS]))
    assert rows is not None
    base, tuned = summary(rows, "base"), summary(rows, "finetuned")
    assert base["answer_loss"] == pytest.approx(60 / 40)  # not the row mean (3.0 + 1.0) / 2
    assert tuned["answer_loss"] == pytest.approx(50 / 40)
    assert tuned["perplexity"] == pytest.approx(math.exp(50 / 40))
    assert (base["n"], base["answer_tokens"]) == (2, 40)
    assert items(rows).weights == [10, 30]


def test_a_run_without_the_file_has_no_answer_loss(tmp_path: Path) -> None:
    assert read_rows(tmp_path) is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"id": "a", "tokens": 3}', "answer_loss.jsonl:2: not an answer-loss row"),
        ("not json", "answer_loss.jsonl:2: not an answer-loss row"),
        ('{"id": "a", "tokens": 0, "base": 1.0, "finetuned": 1.0}', "without scored tokens"),
    ],
)
def test_a_bad_row_names_the_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(EvalInputError, match=message):
        read_rows(write(tmp_path, [json.dumps(ROWS[0]), line]))


def test_a_base_deepspeed_did_not_score_is_left_out(tmp_path: Path) -> None:
    lines = [json.dumps({**r, "base": None}) for r in ROWS]
    rows = read_rows(write(tmp_path, lines))
    assert rows is not None
    assert summary(rows, "base") == {}
    assert summary(rows, "finetuned")["answer_loss"] == pytest.approx(50 / 40)
    assert items(rows) is None  # nothing to pair: no interval for the change
