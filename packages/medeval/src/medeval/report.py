"""`report.md` and a self-contained `report.html` built from a run folder's files.

Reading order answers the reader's question first: the verdict (base vs fine-tuned on every
measure, with intervals, as a table and a plot), then the per-task benchmarks, samples, the
training curve, and the configuration last (collapsed in the HTML). Both files render the same
blocks (report_render.py), so they never drift.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medeval.evaluation import read_generation, read_samples, write_json
from medeval.generation import describe
from medeval.plots import save_figure
from medeval.report_blocks import Block, Details, Heading, Image, Paragraph, Samples, Table
from medeval.report_items import TaskResult, task_results
from medeval.report_plot import verdict_figure
from medeval.report_render import to_html, to_markdown
from medeval.report_verdict import PAIRED, Measure, measures, verdict_json
from medeval.runs import Run

SAMPLES_SHOWN = 10
"""Sample rows in the report (samples.md holds all)."""
STATS_SHOWN_ELSEWHERE = frozenset(
    {"eval_answer_loss_before", "eval_answer_loss_after", "eval_answer_rows", "eval_answer_tokens"}
)
"""trainer_stats.json keys the verdict already shows (one answer loss in the whole report)."""


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _flatten(config: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in config.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _number(value: float, percent: bool, signed: bool = False) -> str:
    sign = "+" if signed else ""
    return f"{100 * value:{sign}.1f}%" if percent else f"{value:{sign}.3f}"


def _with_interval(
    value: float, low: float, high: float, percent: bool, signed: bool = False
) -> str:
    """`value` over its interval on a second line (narrow columns on a phone)."""
    return (
        f"{_number(value, percent, signed)}\n"
        f"[{_number(low, percent, signed)}, {_number(high, percent, signed)}]"
    )


def _verdict_row(m: Measure) -> list[str]:
    """measure (with n) | base | fine-tuned | change (with the verdict): four narrow columns."""
    percent = m.key == "benchmark_average"
    p = m.paired
    name, _, detail = m.label.partition(" (")
    unit = {"answer_loss": "rows", "benchmark_average": "items"}.get(m.key, "questions")
    where = f"{detail.rstrip(')')}, " if detail else ""
    return [
        f"{name}\n{where}{p.n} {unit}",
        _with_interval(p.base.value, p.base.low, p.base.high, percent),
        _with_interval(p.finetuned.value, p.finetuned.low, p.finetuned.high, percent),
        _with_interval(p.delta.value, p.delta.low, p.delta.high, percent, signed=True)
        + f"\n{m.verdict}",
    ]


def _summary(found: list[Measure]) -> str:
    by_verdict: dict[str, list[str]] = {}
    for m in found:
        by_verdict.setdefault(m.verdict, []).append(m.label.split(" (")[0])
    parts = [
        f"{phrase} on {', '.join(by_verdict[v])}"
        for v, phrase in (("better", "better"), ("worse", "worse"), ("unclear", "no clear change"))
        if v in by_verdict
    ]
    return "The fine-tuned model is " + "; ".join(parts) + "." if parts else ""


def _verdict_blocks(run: Run, found: list[Measure]) -> list[Block]:
    if not found:
        return [Paragraph("No evaluation results yet: run `medeval evaluate` on this run.")]
    image = save_figure(verdict_figure(found), run.eval_dir / "verdict")[0]
    notes = "; ".join(f"{m.label.split(' (')[0]}: {m.method}" for m in found)
    settings = read_generation(run)
    decoding = f" ({describe(settings)})" if settings else ""
    return [
        Heading("Verdict: did fine-tuning help?"),
        Paragraph(_summary(found)),
        Table(["measure", "base", "fine-tuned", "change"], [_verdict_row(m) for m in found]),
        Image(image, "base vs fine-tuned on each measure, with intervals"),
        Paragraph(
            f"Intervals: {PAIRED} ({notes}). A verdict is better or worse only when the interval "
            "of the change excludes 0. Answer loss: mean negative log-likelihood per answer "
            "token on held-out rows, as medtrain scored it (docs/schemas.md §3). ROUGE-L and "
            f"token F1: overlap of the generated answers with the references{decoding}."
        ),
    ]


def _task_blocks(tasks: list[TaskResult]) -> list[Block]:
    if not tasks:
        return []
    rows = []
    for t in tasks:
        counts = ("-", "-") if t.items is None else (str(t.newly_right), str(t.newly_wrong))
        change = _number(t.finetuned_acc - t.base_acc, True, signed=True)
        accuracies = [_number(t.base_acc, True), _number(t.finetuned_acc, True)]
        rows.append([t.name, str(t.n), *accuracies, change, *counts])
    header = ["task", "n", "base acc", "fine-tuned acc", "change", "newly right", "newly wrong"]
    return [
        Heading("Benchmarks per task"),
        Paragraph(
            "Zero-shot multiple choice by option log-likelihood (lm-evaluation-harness protocol). "
            "Newly right: items the base model misses and the fine-tuned model gets; newly "
            "wrong: the reverse (from eval/benchmarks/<task>.jsonl; '-' where it is missing)."
        ),
        Table(header, rows),
    ]


def _training_blocks(run: Run) -> list[Block]:
    blocks: list[Block] = [Heading("Training")]
    for stem, alt in (("loss", "training loss"), ("loss_compare", "loss of compared runs")):
        if (run.eval_dir / f"{stem}.png").is_file():
            blocks.append(Image(run.eval_dir / f"{stem}.png", alt))
    stats = _read_json(run.path / "trainer_stats.json") or {}
    shown = [[k, _fmt(v)] for k, v in stats.items() if k not in STATS_SHOWN_ELSEWHERE]
    if shown:
        blocks.append(Details("Training statistics", [Table(["stat", "value"], shown)]))
    return blocks if len(blocks) > 1 else []


def _compare_blocks(runs: list[Run]) -> list[Block]:
    keys = ("answer_loss", "rouge_l", "token_f1")
    rows = []
    for other in runs:
        metrics = _read_json(other.eval_dir / "metrics.json") or {}
        for variant, values in metrics.items():
            rows.append([other.name, variant, *(_fmt(values.get(k)) for k in keys)])
    if not rows:
        return []
    return [
        Heading("Compared runs"),
        Table(["run", "model", "answer loss", "ROUGE-L", "token F1"], rows),
    ]


def build_blocks(run: Run, compare: list[Run]) -> list[Block]:
    """The report's content, in reading order; sections whose files are missing are skipped."""
    found = measures(run)
    write_json(run.eval_dir / "verdict.json", verdict_json(found))
    samples = read_samples(run)[:SAMPLES_SHOWN]
    sample_blocks: list[Block] = [Heading("Samples"), Samples(samples)] if samples else []
    return [
        Heading(f"Evaluation of {run.name}"),
        Paragraph(
            f"Base model `{run.base_model}` fine-tuned on `{run.config['data']['dataset']}`."
        ),
        *_verdict_blocks(run, found),
        *_task_blocks(task_results(run)),
        *sample_blocks,
        *_training_blocks(run),
        *_compare_blocks([run, *compare] if compare else []),
        Heading("Configuration"),
        Details(
            "config.yaml (resolved recipe)",
            [Table(["key", "value"], [[k, _fmt(v)] for k, v in _flatten(run.config)])],
        ),
    ]


def write_report(run: Run, compare: list[Run]) -> list[Path]:
    """Write `report.md` and `report.html` into the run folder (and eval/verdict.json/.png)."""
    blocks = build_blocks(run, compare)
    md, page = run.path / "report.md", run.path / "report.html"
    md.write_text(to_markdown(blocks, run.path), encoding="utf-8")
    page.write_text(to_html(blocks, f"Evaluation of {run.name}"), encoding="utf-8")
    return [md, page]
