"""Benchmark tasks as data: the leaderboard suite in tasks.yaml, or a user's JSONL file.

A task turns each item of its file into a `Question`: the context (description + the task's
Jinja text, rendered as lm-evaluation-harness renders its templates) and the scored
continuations (" " + each choice: the harness's target delimiter).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, StrictUndefined, Template

from medeval.errors import EvalInputError
from medeval.task_files import READERS, Item

TARGET_DELIMITER = " "
"""What the harness puts between the context and each choice."""
AVERAGE = "average"
"""benchmarks.json's key for the suite average; no task may take this name."""

_jinja = Environment(undefined=StrictUndefined, keep_trailing_newline=True)
"""The harness's template settings (lm_eval.utils.env)."""


@dataclass(frozen=True)
class TaskSpec:
    """One benchmark: where its items are and how each is asked."""

    name: str
    """Key in benchmarks.json; the per-item file is benchmarks/<name>.jsonl."""
    data: str
    """File (a folder for the pubmedqa reader) under the eval data root, or a user's file."""
    reader: str
    """How to read it: jsonl (MedQA's shape) or pubmedqa."""
    text: str
    """Jinja template of the prompt over the item (question, options, contexts)."""
    description: str = ""
    """Text before the prompt (MMLU's subject line)."""
    choices: tuple[str, ...] = ()
    """The scored options; empty: each item's own option letters."""
    subject: str | None = None
    """Keep only the file's rows of this subject."""
    harness: str | None = None
    """The lm-evaluation-harness task this reproduces; None for a user's file."""


@dataclass(frozen=True)
class Question:
    """One multiple-choice item as the model is asked it."""

    id: str
    """The item's id in its source file."""
    context: str
    """The prompt the options continue (ends with "Answer:")."""
    choices: list[str]
    """The option continuations, each with its leading space."""
    gold: int
    """Index of the correct choice."""


@cache
def _config() -> dict[str, Any]:
    text = resources.files("medeval").joinpath("tasks.yaml").read_text(encoding="utf-8")
    config: dict[str, Any] = yaml.safe_load(text)
    return config


def suite() -> dict[str, TaskSpec]:
    """The Open Medical-LLM Leaderboard's 9 tasks, in tasks.yaml's order."""
    return {
        name: TaskSpec(
            name=name,
            data=fields["data"],
            reader=fields["reader"],
            text=fields["text"],
            description=fields.get("description", ""),
            choices=tuple(fields.get("choices", ())),
            subject=fields.get("subject"),
            harness=fields["harness"],
        )
        for name, fields in _config()["tasks"].items()
    }


def groups() -> dict[str, list[str]]:
    """Names that stand for several tasks (`mmlu`)."""
    return dict(_config()["groups"])


def user_task(path: Path) -> TaskSpec:
    """A user's MedQA-shaped JSONL file, asked with MedQA's prompt; named after the file."""
    like = suite()[_config()["user_file"]]
    if path.stem == AVERAGE:
        raise EvalInputError(f"{path}: '{AVERAGE}' is reserved in benchmarks.json; rename it")
    return TaskSpec(path.stem, str(path), "jsonl", like.text, like.description)


def resolve(names: list[str] | None) -> list[TaskSpec]:
    """Task names, group names or .jsonl paths -> tasks (default: the whole suite)."""
    known, named_groups = suite(), groups()
    chosen: dict[str, TaskSpec] = {}
    for name in names or list(known):
        if name in known:
            specs = [known[name]]
        elif name in named_groups:
            specs = [known[n] for n in named_groups[name]]
        elif name.endswith(".jsonl") and Path(name).is_file():
            specs = [user_task(Path(name))]
        else:
            raise EvalInputError(
                f"unknown task {name!r}; choose from {[*known, *named_groups]} "
                "or give an existing .jsonl file (question, options, answer_idx per line)"
            )
        for spec in specs:
            if spec.name in chosen and chosen[spec.name] != spec:
                raise EvalInputError(f"two tasks named {spec.name!r}; rename {spec.data}")
            chosen[spec.name] = spec
    return list(chosen.values())


def data_path(spec: TaskSpec, data_root: Path) -> Path:
    """Where the task's file is: a user's file as given, a suite file under the data root."""
    return Path(spec.data) if spec.harness is None else data_root / spec.data


@cache
def _template(text: str) -> Template:
    return _jinja.from_string(text)


def as_question(spec: TaskSpec, item: Item) -> Question:
    """The item's context and continuations, as the harness builds them."""
    fields = {"question": item.question, "options": item.options, "contexts": item.contexts}
    context = spec.description + _template(spec.text).render(**fields)
    choices = list(spec.choices or item.options)
    if item.answer not in choices:
        raise EvalInputError(f"{spec.name}: item {item.id} answers {item.answer!r}, not {choices}")
    return Question(
        item.id, context, [TARGET_DELIMITER + c for c in choices], choices.index(item.answer)
    )


def load_questions(spec: TaskSpec, data_root: Path) -> list[Question]:
    """Every item of the task's file (of its subject) as a Question."""
    items = READERS[spec.reader](data_path(spec, data_root))
    if spec.subject is not None:
        items = [item for item in items if item.subject == spec.subject]
        if not items:
            raise EvalInputError(f"{spec.data}: no rows with subject {spec.subject!r}")
    return [as_question(spec, item) for item in items]
