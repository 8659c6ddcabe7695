"""Per-task benchmark results for the report: accuracies from benchmarks.json and, where the
per-item file `eval/benchmarks/<task>.jsonl` exists, which items each model gets right.

A per-item line carries `id`, `gold` and, per model, `pred` (or the `logprobs` it is the argmax
of): either nested (`{"id", "gold", "base": {"pred", ...}, "finetuned": {...}}`) or one line per
model with a `variant` field. A file that gives both models is read; anything else is an error
naming the file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medeval.bootstrap import Items
from medeval.errors import EvalInputError
from medeval.runs import Run

VARIANTS = ("base", "finetuned")
NOT_TASKS = frozenset({"average", "leaderboard_average"})
"""Keys of benchmarks.json that summarize tasks rather than being one."""


@dataclass(frozen=True)
class TaskResult:
    """One benchmark task, both models on the same items."""

    name: str
    """The task's key in benchmarks.json."""
    n: int
    """Items scored."""
    base_acc: float
    """The base model's accuracy (0-1)."""
    finetuned_acc: float
    """The fine-tuned model's accuracy."""
    base_stderr: float
    """Standard error of base_acc."""
    finetuned_stderr: float
    """Standard error of finetuned_acc."""
    items: Items | None
    """Per-item correctness (1/0) of both models, in the same item order; None without a file."""

    @property
    def newly_right(self) -> int | None:
        """Items the base model gets wrong and the fine-tuned model right."""
        if self.items is None:
            return None
        return sum(
            b == 0 and f == 1 for b, f in zip(self.items.base, self.items.finetuned, strict=True)
        )

    @property
    def newly_wrong(self) -> int | None:
        """Items the base model gets right and the fine-tuned model wrong."""
        if self.items is None:
            return None
        return sum(
            b == 1 and f == 0 for b, f in zip(self.items.base, self.items.finetuned, strict=True)
        )


def _pred(record: dict[str, Any]) -> int:
    if "pred" in record:
        return int(record["pred"])
    logprobs = record["logprobs"]
    return int(max(range(len(logprobs)), key=logprobs.__getitem__))


def read_items(path: Path) -> Items:
    """Per-item correctness of both models from one task's JSONL."""
    correct: dict[str, dict[str, int]] = {v: {} for v in VARIANTS}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            item = str(record["id"])
            by_variant = (
                {record["variant"]: record}
                if "variant" in record
                else {v: record[v] for v in VARIANTS if v in record}
            )
            if not by_variant:
                raise KeyError("`variant`, or a `base` / `finetuned` result")
            for variant, result in by_variant.items():
                gold = result.get("gold", record.get("gold"))
                correct[variant][item] = int(_pred(result) == int(gold))
        except (ValueError, KeyError, TypeError) as err:
            raise EvalInputError(
                f"{path}:{number}: not a per-item benchmark line ({err})"
            ) from None
    ids = list(correct["base"])
    if not ids or set(ids) != set(correct["finetuned"]):
        raise EvalInputError(f"{path}: needs the same items for the base and fine-tuned model")
    return Items(
        base=[correct["base"][i] for i in ids], finetuned=[correct["finetuned"][i] for i in ids]
    )


def _is_task(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(value.get(v), dict) and {"acc", "n"} <= set(value[v]) for v in VARIANTS
    )


def task_results(run: Run) -> list[TaskResult]:
    """Every task benchmarks.json holds for both models, in its order."""
    path = run.eval_dir / "benchmarks.json"
    if not path.is_file():
        return []
    bench = json.loads(path.read_text(encoding="utf-8"))
    results = []
    for name, value in bench.items():
        if name in NOT_TASKS or not _is_task(value):
            continue
        base, tuned = value["base"], value["finetuned"]
        per_item = run.eval_dir / "benchmarks" / f"{name}.jsonl"
        results.append(
            TaskResult(
                name=name,
                n=int(base["n"]),
                base_acc=float(base["acc"]),
                finetuned_acc=float(tuned["acc"]),
                base_stderr=float(base.get("stderr", 0.0)),
                finetuned_stderr=float(tuned.get("stderr", 0.0)),
                items=read_items(per_item) if per_item.is_file() else None,
            )
        )
    return results
