from collections import Counter

import pytest

from medeval.benchmarks import (
    ItemResult,
    accuracy,
    encode_question,
    item_result,
    score_questions,
    stderr,
    stratified_subset,
)
from medeval.loglik import Score
from medeval.tasks import Question, load_questions, suite
from testsupport.paths import EVAL_DATA
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer, vocab_tokenizer


@pytest.fixture(scope="module")
def pubmedqa() -> list[Question]:
    return load_questions(suite()["pubmedqa"], EVAL_DATA)


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


def test_item_result_sum_and_byte_normalized() -> None:
    q = Question("1", "ctx", [" yes", " no", " maybe"], gold=2)
    # " yes" has the best sum; " maybe" the best per byte (-0.9 vs -1.05 and -1.67).
    scores = [Score(-4.2, 1, False), Score(-5.0, 1, False), Score(-5.4, 2, False)]
    result = item_result(q, scores)
    assert result == ItemResult([-4.2, -5.0, -5.4], pred=0, pred_norm=2)
    summary = accuracy([q, q], [result, result])
    assert (summary["acc"], summary["acc_norm"], summary["n"]) == (0.0, 1.0, 2)


def test_ties_go_to_the_first_choice_as_in_the_harness() -> None:
    q = Question("1", "ctx", [" A", " B"], gold=1)
    assert item_result(q, [Score(-1.0, 1, True), Score(-1.0, 1, True)]).pred == 0


def test_encode_question_splits_like_the_harness() -> None:
    tokenizer = chatml_byte_tokenizer()
    q = Question("1", "Answer:", [" yes", " no"], gold=0)
    pairs = encode_question(tokenizer, q)
    assert [tokenizer.decode(cont) for _, cont in pairs] == [" yes", " no"]
    assert tokenizer.decode(pairs[0][0]) == "Answer:"


def test_encode_question_keeps_the_tokenizers_bos_and_moves_trailing_spaces() -> None:
    """Llama's tokenizer adds BOS to the context; a context's trailing space joins the option."""
    tokenizer = vocab_tokenizer("llama")
    (ctx, cont), _ = encode_question(tokenizer, Question("1", "Answer: ", ["A", "B"], gold=0))
    assert ctx[0] == tokenizer.bos_token_id
    assert ctx == tokenizer.encode("Answer:")
    assert cont == tokenizer.encode("Answer: A")[len(ctx) :]


def test_score_questions_on_tiny_model(pubmedqa: list[Question]) -> None:
    tokenizer = chatml_byte_tokenizer()
    questions = stratified_subset(pubmedqa, 3)
    model = tiny_chat_llama(len(tokenizer))
    results = score_questions(model, tokenizer, questions, "pubmedqa", batch_size=4)
    assert [len(r.logprobs) for r in results] == [3, 3, 3]
    assert all(r.pred == r.logprobs.index(max(r.logprobs)) for r in results)
