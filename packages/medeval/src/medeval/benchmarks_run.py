"""Benchmarks for each model compared: `benchmarks.json` and `benchmarks/<task>.jsonl`.

benchmarks.json: {task: {model: {acc, stderr, acc_norm, acc_norm_stderr, n}}}, plus
`average` {model: {acc, stderr, acc_norm, acc_norm_stderr, tasks, n}} when all 9 leaderboard
tasks ran: the unweighted mean of the task accuracies, as the Open Medical-LLM Leaderboard
averages them (not weighted by item count).
Per-item lines: {"id", "gold", model: {"logprobs", "pred", "pred_norm"}} (docs/schemas.md §4).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medeval.benchmarks import ItemResult, accuracy, score_questions, stratified_subset
from medeval.compared import as_model
from medeval.cpu_linear import onednn_linears
from medeval.tasks import AVERAGE, Question, TaskSpec, load_questions, suite


@dataclass(frozen=True)
class TaskItems:
    """A task and the questions this evaluation asks of it."""

    spec: TaskSpec
    """The task definition."""
    questions: list[Question]
    """Its items (all, or a label-stratified subset)."""


Results = dict[str, dict[str, list[ItemResult]]]
"""task -> model (base, finetuned) -> one result per question."""


def load_tasks(
    data_root: Path, specs: list[TaskSpec], limit: int | None, seed: int = 0
) -> list[TaskItems]:
    """Each task's questions, or `limit` of them stratified by gold label (seeded)."""
    return [
        TaskItems(spec, stratified_subset(load_questions(spec, data_root), limit, seed))
        for spec in specs
    ]


def run_tasks(
    model: Any,
    tokenizer: Any,
    tasks: list[TaskItems],
    models: tuple[str, ...],
    batch_size: int = 64,
) -> Results:
    """Score every task's questions with each of `models` (the adapter off, on); the weights are
    packed for oneDNN once for all of them, not once a task."""
    results: Results = {}
    with onednn_linears(model):
        for task in tasks:
            results[task.spec.name] = {}
            for which in models:
                with as_model(model, which):
                    label = f"{task.spec.name} ({which})"
                    results[task.spec.name][which] = score_questions(
                        model, tokenizer, task.questions, label, batch_size
                    )
    return results


def average(results: list[dict[str, Any]]) -> dict[str, Any]:
    """The unweighted mean of the tasks' acc and acc_norm; its standard error treats the tasks
    as independent samples: sqrt(sum of squared task standard errors) / number of tasks."""
    k = len(results)
    out: dict[str, Any] = {}
    for key, err in (("acc", "stderr"), ("acc_norm", "acc_norm_stderr")):
        out[key] = sum(r[key] for r in results) / k
        out[err] = math.sqrt(sum(r[err] ** 2 for r in results)) / k
    return out | {"tasks": k, "n": sum(r["n"] for r in results)}


def summary(tasks: list[TaskItems], results: Results) -> dict[str, dict[str, Any]]:
    """benchmarks.json: accuracy per task and model, and the leaderboard average."""
    table: dict[str, dict[str, Any]] = {
        task.spec.name: {
            which: accuracy(task.questions, scored)
            for which, scored in results[task.spec.name].items()
        }
        for task in tasks
    }
    leaderboard = [name for name, spec in suite().items() if name in table]
    if len(leaderboard) == len(suite()) and all(t.spec == suite()[t.spec.name] for t in tasks):
        table[AVERAGE] = {
            which: average([table[name][which] for name in leaderboard])
            for which in table[leaderboard[0]]
        }
    return table


def item_lines(task: TaskItems, by_model: dict[str, list[ItemResult]]) -> Iterator[str]:
    """One JSON line per question: its id, the gold index, each model's scores."""
    for i, question in enumerate(task.questions):
        line: dict[str, Any] = {"id": question.id, "gold": question.gold}
        for which, scored in by_model.items():
            line[which] = asdict(scored[i])
        yield json.dumps(line, ensure_ascii=False) + "\n"


def write_benchmarks(out_dir: Path, tasks: list[TaskItems], results: Results) -> list[Path]:
    """`out_dir/benchmarks.json` and `out_dir/benchmarks/<task>.jsonl`."""
    per_item = out_dir / "benchmarks"
    per_item.mkdir(parents=True, exist_ok=True)
    paths = []
    for task in tasks:
        path = per_item / f"{task.spec.name}.jsonl"
        path.write_text("".join(item_lines(task, results[task.spec.name])), encoding="utf-8")
        paths.append(path)
    table = json.dumps(summary(tasks, results), indent=2, ensure_ascii=False) + "\n"
    (out_dir / "benchmarks.json").write_text(table, encoding="utf-8")
    return [out_dir / "benchmarks.json", *paths]
