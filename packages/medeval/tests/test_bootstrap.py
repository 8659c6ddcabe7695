"""The paired bootstrap: its statistics, its pairing, groups, level and reproducibility."""

import numpy as np
import pytest

from medeval.bootstrap import Items, paired_bootstrap


def test_statistics_on_the_items_themselves() -> None:
    result = paired_bootstrap(Items(base=[1, 2, 3], finetuned=[2, 2, 5]))
    assert (result.base.value, result.finetuned.value) == (2.0, 3.0)
    assert result.delta.value == pytest.approx(1.0)
    assert result.n == 3
    weighted = paired_bootstrap(Items(base=[10, 30], finetuned=[5, 30], weights=[10, 30]))
    assert weighted.base.value == pytest.approx(1.0)  # sum / sum, not the mean of ratios
    assert weighted.finetuned.value == pytest.approx(35 / 40)


def test_pairing_removes_the_items_shared_difficulty() -> None:
    """Scores that vary a lot between items, fine-tuned exactly 0.1 higher on every one: the two
    models' intervals overlap, the difference's interval is the point 0.1."""
    base = np.random.default_rng(1).uniform(0, 1, 40)
    result = paired_bootstrap(Items(base=base, finetuned=base + 0.1))
    assert result.finetuned.low < result.base.high
    assert result.delta.low == pytest.approx(0.1) and result.delta.high == pytest.approx(0.1)


def test_groups_are_resampled_separately_and_macro_averaged() -> None:
    """Task a all right, task b all wrong: every resample keeps each task's size, so the
    average of the two task accuracies is 0.5 in every resample, whatever the task sizes."""
    items = Items(
        base=[1] * 10 + [0] * 90, finetuned=[1] * 10 + [0] * 90, groups=["a"] * 10 + ["b"] * 90
    )
    result = paired_bootstrap(items, resamples=500)
    assert (result.base.low, result.base.value, result.base.high) == (0.5, 0.5, 0.5)


def test_interval_width_matches_the_standard_error() -> None:
    values = np.random.default_rng(2).normal(0, 1, 1000)
    result = paired_bootstrap(Items(base=values, finetuned=values), resamples=4000)
    half_width = (result.base.high - result.base.low) / 2
    assert half_width == pytest.approx(1.96 * values.std() / np.sqrt(1000), rel=0.1)
    assert result.base.low < values.mean() < result.base.high


def test_same_seed_same_interval_and_bad_input_is_refused() -> None:
    items = Items(base=[0, 1, 1, 0, 1], finetuned=[1, 1, 1, 0, 0])
    assert paired_bootstrap(items) == paired_bootstrap(items)
    with pytest.raises(ValueError, match="same non-empty items"):
        paired_bootstrap(Items(base=[1, 2], finetuned=[1]))
