import json
from collections import Counter
from pathlib import Path

import pytest

from medeval.benchmarks import (
    Question,
    accuracy,
    encode_question,
    load_medqa,
    load_pubmedqa,
    run_task,
    stderr,
    stratified_subset,
)
from medeval.errors import EvalInputError
from medeval.loglik import Score
from testsupport.paths import EVAL_DATA
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer


@pytest.fixture(scope="module")
def pubmedqa() -> list[Question]:
    return load_pubmedqa(EVAL_DATA / "pubmedqa")


def test_pubmedqa_is_the_official_test_split(pubmedqa: list[Question]) -> None:
    assert len(pubmedqa) == 500
    truth = json.loads((EVAL_DATA / "pubmedqa" / "test_ground_truth.json").read_text())
    assert {q.id for q in pubmedqa} == set(truth)
    first = pubmedqa[0]
    assert first.context.startswith("Abstract: ")
    assert "\nQuestion: " in first.context
    assert first.context.endswith("\nAnswer:")
    assert first.choices == [" yes", " no", " maybe"]
    assert first.choices[first.gold].strip() == truth[first.id]


def test_medqa_prompt() -> None:
    questions = load_medqa(EVAL_DATA / "medqa")
    assert len(questions) == 1273
    q = questions[0]
    assert q.context.startswith("Question: A junior orthopaedic")
    assert "\nA. Disclose the error to the patient" in q.context
    assert q.context.endswith("\nAnswer:")
    assert q.choices == [" A", " B", " C", " D"]
    assert q.gold == 1


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match=r"test\.jsonl"):
        load_medqa(tmp_path)


def test_stratified_subset_keeps_label_mix(pubmedqa: list[Question]) -> None:
    full = Counter(q.gold for q in pubmedqa)
    subset = stratified_subset(pubmedqa, 50, seed=0)
    assert len(subset) == 50
    mix = Counter(q.gold for q in subset)
    assert set(mix) == set(full)  # the sorted file's first 50 would all be "yes"
    for label, n in full.items():
        assert abs(mix[label] - 50 * n / 500) < 1
    assert subset == stratified_subset(pubmedqa, 50, seed=0)
    assert subset != stratified_subset(pubmedqa, 50, seed=1)
    assert stratified_subset(pubmedqa, None) == pubmedqa


def test_stderr_is_sample_standard_error() -> None:
    assert stderr(0.5, 101) == pytest.approx((0.25 / 100) ** 0.5)
    assert stderr(1.0, 10) == 0.0


def test_accuracy_sum_and_byte_normalized() -> None:
    q = Question("1", "ctx", [" yes", " no", " maybe"], gold=2)
    # " yes" has the best sum; " maybe" the best per byte (-0.9 vs -1.05 and -1.67).
    scores = [Score(-4.2, 1, False), Score(-5.0, 1, False), Score(-5.4, 2, False)]
    result = accuracy([q, q], [scores, scores])
    assert result["acc"] == 0.0
    assert result["acc_norm"] == 1.0
    assert result["n"] == 2


def test_encode_question_splits_like_the_harness() -> None:
    tokenizer = chatml_byte_tokenizer()
    q = Question("1", "Answer:", [" yes", " no"], gold=0)
    pairs = encode_question(tokenizer, q)
    assert [tokenizer.decode(cont) for _, cont in pairs] == [" yes", " no"]
    assert tokenizer.decode(pairs[0][0]) == "Answer:"


def test_run_task_on_tiny_model(pubmedqa: list[Question]) -> None:
    tokenizer = chatml_byte_tokenizer()
    questions = stratified_subset(pubmedqa, 3)
    result = run_task(
        tiny_chat_llama(len(tokenizer)), tokenizer, questions, "pubmedqa", batch_size=4
    )
    assert result["n"] == 3
    assert 0.0 <= result["acc"] <= 1.0
