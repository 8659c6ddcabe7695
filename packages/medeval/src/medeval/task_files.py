"""Benchmark files read into items, every bad line named with its file, line and fix.

`jsonl`: one object per line in the shape of the shipped MedQA file: `question`, `options`
(letter -> text, in the order they are asked), `answer_idx` (the right letter); the id is
`realidx`, else `id`, else the line number. `pubmedqa`: the official 500-id test split of PQA-L.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medeval.errors import EvalInputError

MAX_REPORTED = 10
"""Bad lines listed in one error message (the count of the rest follows)."""


@dataclass(frozen=True)
class Item:
    """One multiple-choice question as its file gives it."""

    id: str
    """The item's own id in its file (`realidx`, PubMedQA's PMID)."""
    question: str
    """The question text."""
    answer: str
    """The right choice: an option letter, or PubMedQA's yes / no / maybe."""
    options: dict[str, str] = field(default_factory=dict)
    """Option letter -> option text, in file order (empty for PubMedQA)."""
    contexts: tuple[str, ...] = ()
    """PubMedQA's abstract paragraphs."""
    subject: str | None = None
    """The MMLU subject, where the file mixes several."""


def read_text(path: Path) -> str:
    if not path.is_file():
        raise EvalInputError(f"{path}: missing benchmark file; see data/eval/README.md")
    return path.read_text(encoding="utf-8")


def _problem(row: Any) -> str | None:
    """What is wrong with one parsed line, with the fix; None when it is a valid item."""
    if not isinstance(row, dict):
        return "not a JSON object; write one {...} object per line"
    question, options, answer = row.get("question"), row.get("options"), row.get("answer_idx")
    if not isinstance(question, str) or not question.strip():
        return 'no `question`; add "question": "<the question text>"'
    if (
        not isinstance(options, dict)
        or len(options) < 2
        or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in options.items())
    ):
        return '`options` must map each letter to its text, e.g. {"A": "...", "B": "..."}'
    if answer not in options:
        return f"`answer_idx` {answer!r} is not one of the options {list(options)}; use its letter"
    return None


def read_jsonl(path: Path) -> list[Item]:
    """Items of a MedQA-shaped JSONL file; all bad lines are reported together."""
    items: list[Item] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line_no, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            errors.append(f"{path}:{line_no}: not valid JSON ({err.msg}); one object per line")
            continue
        problem = _problem(row)
        if problem is not None:
            errors.append(f"{path}:{line_no}: {problem}")
            continue
        item_id = str(row.get("realidx", row.get("id", line_no)))
        if item_id in seen:
            errors.append(
                f"{path}:{line_no}: id {item_id!r} already used on line {seen[item_id]}; "
                "give every item its own `realidx` or `id`"
            )
            continue
        seen[item_id] = line_no
        items.append(
            Item(
                item_id,
                row["question"],
                row["answer_idx"],
                dict(row["options"]),
                (),
                row.get("subject"),
            )
        )
    if errors:
        more = len(errors) - MAX_REPORTED
        tail = [f"... and {more} more bad lines"] if more > 0 else []
        raise EvalInputError("\n".join(errors[:MAX_REPORTED] + tail))
    if not items:
        raise EvalInputError(f"{path}: no questions; one JSON object per line (see MedQA's file)")
    return items


def read_pubmedqa(folder: Path) -> list[Item]:
    """The 500 test ids of PQA-L (`test_ground_truth.json`), texts from `ori_pqal.json`."""
    truth = json.loads(read_text(folder / "test_ground_truth.json"))
    texts = json.loads(read_text(folder / "ori_pqal.json"))
    items = []
    for pmid, label in truth.items():
        if pmid not in texts:
            raise EvalInputError(
                f"{folder}/ori_pqal.json: test id {pmid} missing; restore the file"
            )
        text = texts[pmid]
        items.append(Item(pmid, text["QUESTION"], label, contexts=tuple(text["CONTEXTS"])))
    return items


READERS = {"jsonl": read_jsonl, "pubmedqa": read_pubmedqa}
"""Reader name (a task's `reader`) -> function from a path to items."""
