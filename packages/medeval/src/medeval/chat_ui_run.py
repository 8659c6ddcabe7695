"""What the chat shows about the run: its model, data, training and held-out losses, the system
instruction it was trained with, and held-out questions with their reference answers."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medeval.errors import EvalInputError
from medeval.runs import Run
from medeval.testset import Example, load_examples


@dataclass(frozen=True)
class RunSummary:
    """Everything the page and the terminal show next to the chat."""

    run: Run
    """The run folder being chatted with."""
    system: str | None
    """The system instruction every prompt starts with (None: no system turn)."""
    facts: list[tuple[str, str]]
    """(label, value) rows: run, base model, dataset, steps."""
    losses: list[tuple[str, float, float]]
    """Held-out answer loss as (where it was measured, base, fine-tuned); empty if never."""
    examples: list[Example]
    """The first held-out questions (sha256-of-id order) with their reference answers."""
    examples_note: str = ""
    """Why there are no examples (the held-out split could not be read), else empty."""


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise EvalInputError(
            f"{path}: not valid JSON ({err}); rerun the step that wrote it"
        ) from None


def _pair(where: str, base: Any, tuned: Any) -> list[tuple[str, float, float]]:
    """One loss row, or none when either number is missing."""
    numbers = isinstance(base, int | float) and isinstance(tuned, int | float)
    return [(where, float(base), float(tuned))] if numbers else []


def _facts(run: Run, stats: dict[str, Any]) -> list[tuple[str, str]]:
    training = run.config.get("training") or {}
    dataset = Path(run.dataset).name if Path(run.dataset).is_absolute() else run.dataset
    steps = stats.get("global_step")
    planned = f"{training['max_steps']} planned" if "max_steps" in training else "unknown"
    return [
        ("Run", run.name),
        ("Base model", run.base_model),
        ("Dataset", f"{dataset} (held-out split: {run.test_split})"),
        ("Steps", str(steps) if steps is not None else f"{planned} (no trainer_stats.json)"),
    ]


def _losses(stats: dict[str, Any]) -> list[tuple[str, float, float]]:
    """The one held-out answer loss (docs/schemas.md §3), as medtrain measured it before and
    after training; medeval's metrics.json repeats the same number."""
    rows = stats.get("eval_answer_rows")
    where = f"held-out, {rows} rows" if rows else "held-out"
    return _pair(where, stats.get("eval_answer_loss_before"), stats.get("eval_answer_loss_after"))


def losses_markdown(losses: list[tuple[str, float, float]]) -> str:
    """The loss rows as a Markdown table: `2.504 → 2.316 (-7.5%)`."""
    if not losses:
        return "Held-out answer loss: not measured yet (`medeval metrics RUN` measures it)."
    rows = [
        f"| {where} | {b:.3f} → {t:.3f}{f' ({(t - b) / b:+.1%})' if b else ''} |"
        for where, b, t in losses
    ]
    return "\n".join(["| held-out answer loss | base → fine-tuned |", "|---|---|", *rows])


def _about(run: Run) -> tuple[list[tuple[str, str]], list[tuple[str, float, float]]]:
    stats = _read_json(run.path / "trainer_stats.json") or {}
    return _facts(run, stats), _losses(stats)


def summarize(run: Run, n_examples: int, system: str | None = None) -> RunSummary:
    """Read the run's files and held-out split. The system instruction is `system` if given,
    else the one most rows of the held-out split carry (the one the model was trained with)."""
    try:
        rows = load_examples(run.dataset, run.test_split)
    except EvalInputError as err:
        if system is None:
            raise EvalInputError(
                f"{err}. The chat takes the run's system instruction from its held-out split; "
                "pass --system TEXT to chat without it"
            ) from None
        return RunSummary(run, system, *_about(run), [], f"No example questions: {err}")
    if system is None:
        found = Counter(m["content"] for r in rows for m in r.messages[:1] if m["role"] == "system")
        system = found.most_common(1)[0][0] if found else None
    examples = load_examples(run.dataset, run.test_split, n_examples) if n_examples else []
    return RunSummary(run, system, *_about(run), examples)
