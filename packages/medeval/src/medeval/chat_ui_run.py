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
    """(label, value) rows: base model, dataset, steps, held-out answer loss before and after."""
    examples: list[Example]
    """A seeded sample of held-out questions with their reference answers."""
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


def _change(before: Any, after: Any) -> str | None:
    """`2.500 → 2.100 (-16.0%)`, or None when either number is missing."""
    if not isinstance(before, int | float) or not isinstance(after, int | float):
        return None
    relative = f" ({(after - before) / before:+.1%})" if before else ""
    return f"{before:.3f} → {after:.3f}{relative}"


def _facts(run: Run) -> list[tuple[str, str]]:
    stats = _read_json(run.path / "trainer_stats.json") or {}
    metrics = _read_json(run.eval_dir / "metrics.json") or {}
    training = run.config.get("training") or {}
    dataset = Path(run.dataset).name if Path(run.dataset).is_absolute() else run.dataset
    steps = stats.get("global_step")
    planned = f"{training['max_steps']} planned" if "max_steps" in training else "unknown"
    facts = [
        ("Run", run.name),
        ("Base model", run.base_model),
        ("Dataset", f"{dataset} (held-out split: {run.test_split})"),
        ("Steps", str(steps) if steps is not None else f"{planned} (no trainer_stats.json)"),
    ]
    trained = _change(stats.get("eval_answer_loss_before"), stats.get("eval_answer_loss_after"))
    if trained:
        facts.append(("Held-out answer loss, base → fine-tuned (medtrain)", trained))
    base, tuned = metrics.get("base") or {}, metrics.get("finetuned") or {}
    evaluated = _change(base.get("answer_loss"), tuned.get("answer_loss"))
    if evaluated:
        facts.append(
            (f"Held-out answer loss, base → fine-tuned (medeval, {base.get('n')} rows)", evaluated)
        )
    if not trained and not evaluated:
        facts.append(("Held-out answer loss", "not measured yet: run `medeval metrics RUN`"))
    return facts


def summarize(run: Run, n_examples: int, seed: int, system: str | None = None) -> RunSummary:
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
        return RunSummary(run, system, _facts(run), [], f"No example questions: {err}")
    if system is None:
        found = Counter(m["content"] for r in rows for m in r.messages[:1] if m["role"] == "system")
        system = found.most_common(1)[0][0] if found else None
    examples = load_examples(run.dataset, run.test_split, n_examples, seed) if n_examples else []
    return RunSummary(run, system, _facts(run), examples)
