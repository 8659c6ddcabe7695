"""Did fine-tuning help, and how sure are we: `eval/verdict.json` from the run's eval files.

Four measures, base vs fine-tuned on the same items, each with a paired-bootstrap interval:
held-out answer loss (medtrain's answer_loss.jsonl), ROUGE-L and token F1 of the generated
answers (samples.jsonl) and the benchmark average over the tasks present (benchmarks.json, per
item from eval/benchmarks/<task>.jsonl where written).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from medeval import answer_loss
from medeval.bootstrap import LEVEL, RESAMPLES, SEED, Estimate, Items, Paired, paired_bootstrap
from medeval.evaluation import overlap_items, read_samples
from medeval.report_items import TaskResult, task_results
from medeval.runs import Run


@dataclass(frozen=True)
class Measure:
    """One row of the verdict."""

    key: str
    """Key in verdict.json."""
    label: str
    """How the report names it."""
    lower_is_better: bool
    """Answer loss: lower; the overlap scores and accuracies: higher."""
    paired: Paired
    """Both models and the difference, with intervals."""
    method: str
    """How the intervals were obtained, beyond the shared bootstrap settings (PAIRED)."""

    @property
    def verdict(self) -> str:
        """`better` / `worse` when the difference's interval excludes 0, else `unclear`."""
        low, high = self.paired.delta.low, self.paired.delta.high
        if low > 0 or high < 0:
            improved = (high < 0) == self.lower_is_better
            return "better" if improved else "worse"
        return "unclear"


PAIRED = (
    f"{LEVEL:.0%} percentile intervals of a paired bootstrap ({RESAMPLES:,} resamples, each "
    "drawing the same items for both models)"
)
"""How every interval is obtained unless its measure's method says otherwise."""


def _normal_average(tasks: list[TaskResult]) -> Paired:
    """The tasks' mean accuracy from their standard errors (no per-item files to resample)."""
    z = NormalDist().inv_cdf(0.5 + LEVEL / 2)
    k = len(tasks)

    def spread(value: float, variance: float) -> Estimate:
        half = z * math.sqrt(variance) / k
        return Estimate(value, value - half, value + half)

    base = sum(t.base_acc for t in tasks) / k
    tuned = sum(t.finetuned_acc for t in tasks) / k
    base_var = sum(t.base_stderr**2 for t in tasks)
    tuned_var = sum(t.finetuned_stderr**2 for t in tasks)
    return Paired(
        base=spread(base, base_var),
        finetuned=spread(tuned, tuned_var),
        delta=spread(tuned - base, base_var + tuned_var),
        n=sum(t.n for t in tasks),
    )


def _benchmark_measure(tasks: list[TaskResult]) -> Measure:
    names = ", ".join(t.name for t in tasks)
    label = f"benchmark average ({len(tasks)} task{'s' * (len(tasks) > 1)})"
    if all(t.items is not None for t in tasks):
        items = Items(
            base=[v for t in tasks for v in t.items.base],  # type: ignore[union-attr]
            finetuned=[v for t in tasks for v in t.items.finetuned],  # type: ignore[union-attr]
            groups=[t.name for t in tasks for _ in t.items.base],  # type: ignore[union-attr]
        )
        method = f"items resampled within each task ({names}), tasks averaged unweighted"
        return Measure("benchmark_average", label, False, paired_bootstrap(items), method)
    method = (
        f"normal approximation from the per-task standard errors ({names}; no per-item files, "
        "so not paired: wider than a paired interval)"
    )
    return Measure("benchmark_average", label, False, _normal_average(tasks), method)


def measures(run: Run) -> list[Measure]:
    """The verdict's rows for whatever the run's eval folder holds."""
    found: list[Measure] = []
    rows = answer_loss.read_rows(run.path)
    loss_items = answer_loss.items(rows) if rows else None
    if loss_items:
        paired = paired_bootstrap(loss_items)
        method = "held-out rows resampled, token-weighted mean"
        found.append(Measure("answer_loss", "answer loss (nats/token)", True, paired, method))
    samples = read_samples(run)
    if samples:
        overlap = overlap_items(samples)
        for key, label in (("rouge_l", "ROUGE-L"), ("token_f1", "token F1")):
            paired = paired_bootstrap(overlap[key])
            found.append(Measure(key, label, False, paired, "generated answers resampled"))
    tasks = task_results(run)
    if tasks:
        found.append(_benchmark_measure(tasks))
    return found


def verdict_json(found: list[Measure]) -> dict[str, Any]:
    """`eval/verdict.json`: per measure, both models and the change with their intervals."""
    return {
        "bootstrap": {"resamples": RESAMPLES, "level": LEVEL, "seed": SEED, "method": PAIRED},
        "measures": {
            m.key: {
                "label": m.label,
                "lower_is_better": m.lower_is_better,
                "n": m.paired.n,
                "base": m.paired.base.as_dict(),
                "finetuned": m.paired.finetuned.as_dict(),
                "delta": m.paired.delta.as_dict(),
                "verdict": m.verdict,
                "method": m.method,
            }
            for m in found
        },
    }
