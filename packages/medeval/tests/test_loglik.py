import math

import pytest
import torch

from medeval.loglik import _chunks, score_pairs
from testsupport.tiny import tiny_chat_llama
from testsupport.tokenizers import chatml_byte_tokenizer


@pytest.fixture(scope="module")
def model() -> torch.nn.Module:
    return tiny_chat_llama(len(chatml_byte_tokenizer()))


def hand_logprob(
    model: torch.nn.Module, context: list[int], continuation: list[int]
) -> tuple[float, bool]:
    """Unpadded forward over the whole sequence; log-softmax written out with math.log/exp."""
    with torch.no_grad():
        logits = model(torch.tensor([context + continuation])).logits[0].tolist()
    total, greedy = 0.0, True
    for k, token in enumerate(continuation):
        row = logits[len(context) - 1 + k]  # the position that predicts continuation[k]
        top = max(row)
        log_z = top + math.log(sum(math.exp(v - top) for v in row))
        total += row[token] - log_z
        greedy &= row.index(top) == token
    return total, greedy


PAIRS = [
    ([5, 9, 40, 41, 42, 43, 44], [70]),
    ([5, 9], [70, 71, 72]),
    ([100, 101, 102, 103, 104, 105, 106, 107, 108, 109], [12, 13]),
    ([7], [8]),
]


@pytest.mark.parametrize(("batch_size", "max_batch_tokens"), [(1, 1024), (3, 1024), (8, 12)])
def test_matches_hand_computed_logits(
    model: torch.nn.Module, batch_size: int, max_batch_tokens: int
) -> None:
    """Right-padded batches of different lengths, one row per batch or several."""
    scores = score_pairs(model, PAIRS, batch_size, max_batch_tokens=max_batch_tokens)
    for (ctx, cont), score in zip(PAIRS, scores, strict=True):
        expected, greedy = hand_logprob(model, ctx, cont)
        assert score.logprob == pytest.approx(expected, abs=1e-4)
        assert score.n_tokens == len(cont)
        assert score.greedy == greedy


def test_greedy_flag_true_for_argmax_continuation(model: torch.nn.Module) -> None:
    ctx = [5, 9, 40]
    with torch.no_grad():
        best = int(model(torch.tensor([ctx])).logits[0, -1].argmax())
    assert score_pairs(model, [(ctx, [best])])[0].greedy


def test_truncates_oldest_context(model: torch.nn.Module) -> None:
    long_ctx = list(range(3, 40))
    cut = score_pairs(model, [(long_ctx, [50, 51])], max_length=10)[0]
    expected, _ = hand_logprob(model, long_ctx[-9:], [50, 51])
    assert cut.logprob == pytest.approx(expected, abs=1e-4)


def test_rejects_empty_continuation(model: torch.nn.Module) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        score_pairs(model, [([1, 2], [])])


def test_shared_context_one_token_options(model: torch.nn.Module) -> None:
    """Options " A".." D" after one context reuse one forward pass and still score separately."""
    ctx = [5, 9, 40, 41]
    pairs = [(ctx, [t]) for t in (60, 61, 62, 63)] + [([5, 9, 40], [41, 60])]
    scores = score_pairs(model, pairs, batch_size=2)
    for (c, cont), score in zip(pairs, scores, strict=True):
        assert score.logprob == pytest.approx(hand_logprob(model, c, cont)[0], abs=1e-4)
    assert len({s.logprob for s in scores[:4]}) == 4


def test_output_head_sees_only_the_scored_positions(model: torch.nn.Module) -> None:
    """The head runs on [rows, k] positions, not on every token, and is unhooked afterwards."""
    seen: list[tuple[int, ...]] = []
    head = model.get_output_embeddings()
    handle = head.register_forward_hook(lambda _m, _a, out: seen.append(tuple(out.shape)))
    try:
        score_pairs(model, PAIRS, batch_size=4)
    finally:
        handle.remove()
    assert seen == [(4, 3, model.config.vocab_size)]  # longest continuation: 3 tokens
    assert not head._forward_pre_hooks


def _lengths(batches: list[list[tuple[int, ...]]]) -> list[list[int]]:
    return [[len(row) for row in batch] for batch in batches]


def test_one_long_row_does_not_set_the_length_of_a_batch_of_short_ones() -> None:
    """Filling batches greedily would pad five 60-token rows to 200 beside the 200-token one."""
    rows = [tuple(range(n)) for n in (200, 60, 60, 60, 60, 60)]
    assert _lengths(list(_chunks(rows, 64, 1024))) == [[200], [60] * 5]


def test_batches_keep_order_size_and_budget() -> None:
    rows = [tuple(range(n)) for n in (300, 120, 90, 90, 80, 41, 40, 40, 39, 20, 7, 3, 2)]
    for batch_size, budget in ((64, 1024), (3, 1024), (64, 100), (1, 1024)):
        batches = list(_chunks(rows, batch_size, budget))
        assert [row for batch in batches for row in batch] == rows
        for batch in batches:
            assert len(batch) <= batch_size
            assert len(batch) == 1 or len(batch) * len(batch[0]) <= budget
