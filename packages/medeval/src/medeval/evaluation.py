"""The evaluation steps of one run, each writing its part of `<run>/eval/` (docs/schemas.md §4)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medeval.answer_loss import read_rows, summary
from medeval.bootstrap import Items
from medeval.chat import render_prompt
from medeval.compared import MODELS, as_model
from medeval.generation import GenerationSettings, generate
from medeval.plots import curve_figure, overlay_figure, read_loss_csv, save_figure
from medeval.progress import progress_bar
from medeval.runs import Run
from medeval.testset import Example
from medeval.text_metrics import rouge_l, token_f1


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_loss_plots(run: Run, compare: list[Run]) -> list[Path]:
    """`eval/loss.{png,svg}`, plus `eval/loss_compare.{png,svg}` when other runs are given."""
    curve = read_loss_csv(run.loss_csv, run.name)
    paths = save_figure(curve_figure(curve), run.eval_dir / "loss")
    if compare:
        curves = [curve, *(read_loss_csv(other.loss_csv, other.name) for other in compare)]
        paths += save_figure(overlay_figure(curves), run.eval_dir / "loss_compare")
    return paths


@dataclass(frozen=True)
class Sample:
    """One held-out question answered by both models (a row of samples.jsonl)."""

    id: str
    """The dataset row id."""
    question: str
    """The user turn."""
    reference: str
    """The dataset's answer."""
    base: str
    """The base model's answer (adapter disabled)."""
    finetuned: str
    """The fine-tuned model's answer."""


def generate_samples(
    model: Any, tokenizer: Any, examples: list[Example], settings: GenerationSettings
) -> list[Sample]:
    """Answer each question with the base model and with the adapter."""
    prompts = [render_prompt(tokenizer, e.prompt_messages) for e in examples]
    answers: dict[str, list[str]] = {}
    for which in MODELS:
        with as_model(model, which), progress_bar(f"generate ({which})", len(prompts)) as adv:
            answers[which] = [g.text for g in generate(model, tokenizer, prompts, settings, adv)]
    return [
        Sample(e.id, e.question, e.reference, base, tuned)
        for e, base, tuned in zip(examples, answers["base"], answers["finetuned"], strict=True)
    ]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")


def samples_markdown(samples: list[Sample]) -> str:
    """A Markdown table: question, reference, base answer, fine-tuned answer."""
    lines = ["| id | question | reference | base | fine-tuned |", "| --- | --- | --- | --- | --- |"]
    lines += [
        "| "
        + " | ".join(_cell(v) for v in (s.id, s.question, s.reference, s.base, s.finetuned))
        + " |"
        for s in samples
    ]
    return "\n".join(lines) + "\n"


def write_samples(run: Run, samples: list[Sample], settings: GenerationSettings) -> None:
    """samples.jsonl and .md, and generation.json: the decoding settings behind them."""
    run.eval_dir.mkdir(parents=True, exist_ok=True)
    write_json(run.eval_dir / "generation.json", asdict(settings))
    with (run.eval_dir / "samples.jsonl").open("w", encoding="utf-8") as out:
        for s in samples:
            out.write(json.dumps(s.__dict__, ensure_ascii=False) + "\n")
    (run.eval_dir / "samples.md").write_text(samples_markdown(samples), encoding="utf-8")


def read_generation(run: Run) -> dict[str, Any] | None:
    """The decoding settings of eval/samples.jsonl (None for a run evaluated before they were
    recorded)."""
    path = run.eval_dir / "generation.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def read_samples(run: Run) -> list[Sample]:
    path = run.eval_dir / "samples.jsonl"
    if not path.is_file():
        return []
    return [
        Sample(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line
    ]


def overlap_items(samples: list[Sample]) -> dict[str, Items]:
    """Per-question ROUGE-L and token F1 of both models' answers (for means and the bootstrap)."""
    return {
        name: Items(
            base=[score(s.base, s.reference) for s in samples],
            finetuned=[score(s.finetuned, s.reference) for s in samples],
        )
        for name, score in (("rouge_l", rouge_l), ("token_f1", token_f1))
    }


def compute_metrics(run: Run, samples: list[Sample]) -> dict[str, dict[str, float | int]]:
    """metrics.json: medtrain's held-out answer loss, overlap scores of the generated answers."""
    rows = read_rows(run.path)
    overlap = overlap_items(samples) if samples else {}
    metrics: dict[str, dict[str, float | int]] = {}
    for which in MODELS:
        metrics[which] = summary(rows, which) if rows else {}
        for name, scores in overlap.items():
            values = getattr(scores, which)
            metrics[which][name] = sum(values) / len(values)
        if samples:
            metrics[which]["n_generated"] = len(samples)
    return metrics
