"""A run folder with every file `medeval evaluate` writes, made without a model (report tests)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

TASKS = {"medqa": ([1, 0, 0, 1, 0], [1, 1, 0, 0, 1]), "pubmedqa": ([0, 0, 1], [1, 0, 1])}
"""task -> per-item correctness of (base, fine-tuned)."""


def _scores(right: int) -> dict[str, Any]:
    """One model's scores on an item whose gold is 0 (ws10bench's benchmark_item shape)."""
    pick = 1 - right
    return {"logprobs": [-1.0, -2.0][:: 1 - 2 * pick], "pred": pick, "pred_norm": pick}


def _per_item_file(path: Path, base: list[int], tuned: list[int]) -> None:
    """Per-item lines as `medeval bench` writes them: id, gold, each model's scores."""
    lines = [
        {"id": f"q{i}", "gold": 0, "base": _scores(b), "finetuned": _scores(f)}
        for i, (b, f) in enumerate(zip(base, tuned, strict=True))
    ]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")


def evaluated_run(tiny_run: Path, folder: Path, per_item: bool = True) -> Any:
    """A copy of the tiny run with samples, benchmarks, per-item files, plots and the report."""
    from medeval.evaluation import Sample, write_loss_plots, write_samples
    from medeval.generation import GenerationSettings
    from medeval.report import write_report
    from medeval.runs import load_run

    path = folder / "evaluated"
    shutil.copytree(tiny_run, path)
    run = load_run(path)
    write_loss_plots(run, [])
    long = "A long answer that wraps over several lines on a phone screen. " * 6
    write_samples(
        run,
        [
            Sample(f"medquad:{i}", f"Question {i}?", long, "Something else.", long[: 60 + i])
            for i in range(12)
        ],
        GenerationSettings(max_new_tokens=192, no_repeat_ngram=3, end_when_likely=True),
    )
    bench = {
        name: {
            variant: {"acc": sum(c) / len(c), "stderr": 0.2, "n": len(c)}
            for variant, c in zip(("base", "finetuned"), correct, strict=True)
        }
        for name, correct in TASKS.items()
    }
    bench["average"] = {"base": {"acc": 0.5, "n": 8}, "finetuned": {"acc": 0.6, "n": 8}}
    (run.eval_dir / "benchmarks.json").write_text(json.dumps(bench), encoding="utf-8")
    if per_item:
        (run.eval_dir / "benchmarks").mkdir()
        for name, (base, tuned) in TASKS.items():
            _per_item_file(run.eval_dir / "benchmarks" / f"{name}.jsonl", base, tuned)
    write_report(run, [])
    return run
