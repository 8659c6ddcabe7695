"""medeval's benchmark items as lm-evaluation-harness reads them: each task's Hub dataset fields,
written as the local data files of benchmarks/parity/tasks/*.yaml, and the harness's own task
objects built over them (used by benchmarks/eval_parity.py and the harness parity tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from medeval.task_files import READERS, Item
from medeval.tasks import TaskSpec, data_path

TASKS_DIR = Path(__file__).resolve().parent / "tasks"
"""The local task YAML files."""


def harness_doc(spec: TaskSpec, item: Item) -> dict[str, Any]:
    """One item in the fields of the Hub dataset the harness task reads (plus medeval's id)."""
    letters = list(item.options)
    texts = list(item.options.values())
    gold = letters.index(item.answer) if item.options else None
    if spec.harness == "pubmedqa":
        fields = {"QUESTION": item.question, "CONTEXTS": list(item.contexts)}
        return {"id": item.id, **fields, "final_decision": item.answer}
    if spec.harness == "medqa_4options":
        endings = {f"ending{i}": text for i, text in enumerate(texts)}
        return {"id": item.id, "sent1": item.question, **endings, "label": gold}
    if spec.harness == "medmcqa":
        options = {f"op{c}": text for c, text in zip("abcd", texts, strict=True)}
        return {"id": item.id, "question": item.question, **options, "cop": gold}
    if spec.harness is not None and spec.harness.startswith("mmlu_"):
        return {"id": item.id, "question": item.question, "choices": texts, "answer": gold}
    raise ValueError(f"no harness dataset shape for task {spec.name}")


def task_items(spec: TaskSpec, data_root: Path, ids: list[str]) -> list[Item]:
    """The task's items with these ids, in this order."""
    by_id = {item.id: item for item in READERS[spec.reader](data_path(spec, data_root))}
    return [by_id[i] for i in ids]


def write_data(spec: TaskSpec, items: list[Item], folder: Path) -> Path:
    """folder/<task>.jsonl: the items as the harness's dataset rows."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{spec.name}.jsonl"
    path.write_text("".join(json.dumps(harness_doc(spec, i)) + "\n" for i in items), "utf-8")
    return path


def harness_config(spec: TaskSpec, data_file: Path) -> dict[str, Any]:
    """The local task YAML of `spec` (its !function prompts resolved), reading `data_file`."""
    from lm_eval.tasks._yaml_loader import load_yaml

    config = load_yaml(TASKS_DIR / f"parity_{spec.name}.yaml")
    config["dataset_kwargs"] = {"data_files": {"test": str(data_file)}}
    return config


def harness_task(spec: TaskSpec, data_file: Path) -> Any:
    """The harness's own task object (lm_eval ConfigurableTask) over `data_file`."""
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    loaded = manager.load([harness_config(spec, data_file)])
    return loaded["tasks"][f"parity_{spec.name}"]
