"""Paired bootstrap over items: how sure we are that the fine-tuned model differs from its base.

Both models are scored on the same items, so each resample draws item indices once and applies
them to both: the interval of the difference then reflects the items' shared difficulty, which
is what makes a paired comparison far tighter than two independent intervals. Percentile
intervals; a fixed seed makes every report reproducible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RESAMPLES = 10_000
"""Bootstrap resamples per metric."""
LEVEL = 0.95
"""Two-sided confidence level of every interval."""
SEED = 0
"""Seed of the resampling generator."""


@dataclass(frozen=True)
class Estimate:
    """A value with its bootstrap percentile interval."""

    value: float
    """The statistic on the items themselves."""
    low: float
    """Lower bound of the interval."""
    high: float
    """Upper bound of the interval."""

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


@dataclass(frozen=True)
class Paired:
    """Base vs fine-tuned on the same items."""

    base: Estimate
    """The base model's statistic."""
    finetuned: Estimate
    """The fine-tuned model's statistic."""
    delta: Estimate
    """finetuned - base, with the interval of the paired differences."""
    n: int
    """Items resampled (in all groups together)."""


@dataclass(frozen=True)
class Items:
    """Per-item numbers of one metric for both models.

    The statistic of a group is sum(values) / sum(weights) over its items (a plain mean when
    every weight is 1, a token-weighted mean when values are summed losses and weights token
    counts); over several groups it is the mean of the groups' statistics (a macro average, as the
    leaderboard averages its tasks). Groups are resampled separately, each keeping its size.
    """

    base: Sequence[float]
    """The base model's value per item."""
    finetuned: Sequence[float]
    """The fine-tuned model's value per item, in the same order."""
    weights: Sequence[float] | None = None
    """Per-item denominator (None: 1 each)."""
    groups: Sequence[str] | None = None
    """Per-item group label (None: one group)."""


def _statistic(values: np.ndarray, weights: np.ndarray, picks: list[np.ndarray]) -> np.ndarray:
    """Macro average over groups of sum(values)/sum(weights); one result per row of picks."""
    per_group = [values[p].sum(-1) / weights[p].sum(-1) for p in picks]
    return np.mean(per_group, axis=0)


def paired_bootstrap(
    items: Items, resamples: int = RESAMPLES, level: float = LEVEL, seed: int = SEED
) -> Paired:
    """Both models' statistics and their difference, each with a percentile interval."""
    base = np.asarray(items.base, dtype=float)
    tuned = np.asarray(items.finetuned, dtype=float)
    n = len(base)
    if n == 0 or len(tuned) != n:
        raise ValueError(f"need the same non-empty items for both models ({n} vs {len(tuned)})")
    weights = np.ones(n) if items.weights is None else np.asarray(items.weights, dtype=float)
    labels = np.asarray(["" for _ in range(n)] if items.groups is None else list(items.groups))
    members = [np.flatnonzero(labels == g) for g in dict.fromkeys(labels.tolist())]
    rng = np.random.default_rng(seed)
    drawn = [m[rng.integers(0, len(m), size=(resamples, len(m)))] for m in members]
    whole = [m[None, :] for m in members]
    tail = 100 * (1 - level) / 2

    def estimate(point: np.ndarray, spread: np.ndarray) -> Estimate:
        low, high = np.percentile(spread, [tail, 100 - tail])
        return Estimate(float(point[0]), float(low), float(high))

    stats = {
        name: (_statistic(values, weights, whole), _statistic(values, weights, drawn))
        for name, values in (("base", base), ("finetuned", tuned))
    }
    delta_point = stats["finetuned"][0] - stats["base"][0]
    delta_spread = stats["finetuned"][1] - stats["base"][1]
    return Paired(
        base=estimate(*stats["base"]),
        finetuned=estimate(*stats["finetuned"]),
        delta=estimate(delta_point, delta_spread),
        n=n,
    )
