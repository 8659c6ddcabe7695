"""Zero-shot multiple choice by option log-likelihood (lm-evaluation-harness protocol).

PubMedQA: "Abstract: {contexts}\\nQuestion: {question}\\nAnswer:" + " yes" / " no" / " maybe",
on the official 500-id test split of PQA-L. MedQA (`medqa_4options`): "Question: {question}\\n
A. {A}\\nB. {B}\\nC. {C}\\nD. {D}\\nAnswer:" + " A" .. " D". acc = argmax of the summed option
log-prob; acc_norm = argmax of log-prob per option byte; stderr = sqrt(p(1-p)/(n-1)).
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medeval.errors import EvalInputError
from medeval.loglik import Score, TokenPair, score_pairs
from medeval.progress import progress_bar


@dataclass(frozen=True)
class Question:
    """One multiple-choice item."""

    id: str
    """The item's id in its source file."""
    context: str
    """The prompt the options continue (ends with "Answer:")."""
    choices: list[str]
    """The option continuations, each with its leading space."""
    gold: int
    """Index of the correct choice."""


def load_pubmedqa(folder: Path) -> list[Question]:
    """The 500 test ids of PQA-L (`test_ground_truth.json`), texts from `ori_pqal.json`."""
    labels = ["yes", "no", "maybe"]
    truth = json.loads(_read(folder / "test_ground_truth.json"))
    items = json.loads(_read(folder / "ori_pqal.json"))
    questions = []
    for pmid, label in truth.items():
        if pmid not in items:
            raise EvalInputError(
                f"{folder}/ori_pqal.json: test id {pmid} missing; restore the file"
            )
        item = items[pmid]
        context = (
            f"Abstract: {chr(10).join(item['CONTEXTS'])}\nQuestion: {item['QUESTION']}\nAnswer:"
        )
        questions.append(Question(pmid, context, [f" {c}" for c in labels], labels.index(label)))
    return questions


def load_medqa(folder: Path) -> list[Question]:
    """MedQA USMLE 4-option test questions (`test.jsonl`)."""
    letters = ["A", "B", "C", "D"]
    questions = []
    for line_no, line in enumerate(_read(folder / "test.jsonl").splitlines(), start=1):
        if not line.strip():
            continue
        item = json.loads(line)
        options = "".join(f"{k}. {item['options'][k]}\n" for k in letters)
        if item["answer_idx"] not in letters:
            raise EvalInputError(f"{folder}/test.jsonl:{line_no}: answer_idx must be one of A-D")
        context = f"Question: {item['question']}\n{options}Answer:"
        questions.append(
            Question(
                str(item.get("realidx", line_no)),
                context,
                [f" {c}" for c in letters],
                letters.index(item["answer_idx"]),
            )
        )
    return questions


def _read(path: Path) -> str:
    if not path.is_file():
        raise EvalInputError(f"{path}: missing benchmark file; see data/eval/README.md")
    return path.read_text(encoding="utf-8")


@dataclass(frozen=True)
class Task:
    """A benchmark: its data folder (under the eval data root) and loader."""

    name: str
    """Key in benchmarks.json."""
    folder: str
    """Sub-folder of the eval data root."""
    load: Callable[[Path], list[Question]]
    """Reads the questions from that folder."""


TASKS = {
    task.name: task
    for task in (Task("pubmedqa", "pubmedqa", load_pubmedqa), Task("medqa", "medqa", load_medqa))
}


def stratified_subset(
    questions: list[Question], limit: int | None, seed: int = 0
) -> list[Question]:
    """`limit` questions with the label mix of the whole set (largest remainder), seeded per label.

    The PubMedQA ground truth is sorted by label, so the first N would be all "yes".
    """
    if limit is None or limit >= len(questions):
        return questions
    by_label: dict[int, list[Question]] = {}
    for q in questions:
        by_label.setdefault(q.gold, []).append(q)
    quotas = {label: limit * len(qs) / len(questions) for label, qs in by_label.items()}
    counts = {label: int(quota) for label, quota in quotas.items()}
    by_remainder = sorted(quotas, key=lambda label: counts[label] - quotas[label])
    for label in by_remainder[: limit - sum(counts.values())]:
        counts[label] += 1
    rng = random.Random(seed)
    chosen = {q.id for label, qs in by_label.items() for q in rng.sample(qs, counts[label])}
    return [q for q in questions if q.id in chosen]


def encode_question(tokenizer: Any, question: Question) -> list[TokenPair]:
    """Harness tokenization: continuation ids = ids(context + choice) minus ids(context).

    A BOS is prepended when the tokenizer adds one by default (Llama, Mistral, Gemma).
    """
    bos = [tokenizer.bos_token_id] if _adds_bos(tokenizer) else []
    context_ids = tokenizer(question.context, add_special_tokens=False)["input_ids"]
    pairs = []
    for choice in question.choices:
        whole = tokenizer(question.context + choice, add_special_tokens=False)["input_ids"]
        pairs.append((bos + whole[: len(context_ids)], whole[len(context_ids) :]))
    return pairs


def _adds_bos(tokenizer: Any) -> bool:
    bos = tokenizer.bos_token_id
    return bos is not None and tokenizer("a")["input_ids"][:1] == [bos]


def stderr(p: float, n: int) -> float:
    """Standard error of a mean of n 0/1 outcomes (sample standard deviation)."""
    return math.sqrt(p * (1 - p) / (n - 1)) if n > 1 else 0.0


def accuracy(questions: list[Question], scores: list[list[Score]]) -> dict[str, float | int]:
    """acc (summed log-prob) and acc_norm (log-prob per option byte), with standard errors."""
    hits, hits_norm = 0, 0
    for question, option_scores in zip(questions, scores, strict=True):
        logprobs = [s.logprob for s in option_scores]
        per_byte = [lp / len(c.encode()) for lp, c in zip(logprobs, question.choices, strict=True)]
        hits += logprobs.index(max(logprobs)) == question.gold
        hits_norm += per_byte.index(max(per_byte)) == question.gold
    n = len(questions)
    acc, acc_norm = hits / n, hits_norm / n
    return {
        "acc": acc,
        "stderr": stderr(acc, n),
        "acc_norm": acc_norm,
        "acc_norm_stderr": stderr(acc_norm, n),
        "n": n,
    }


def run_task(
    model: Any,
    tokenizer: Any,
    questions: list[Question],
    label: str,
    batch_size: int = 8,
) -> dict[str, float | int]:
    """Score every option of every question; one progress bar over all options.

    Prompts longer than the model's context lose their oldest tokens (as the harness does).
    """
    max_length = int(getattr(model.config, "max_position_embeddings", 2048))
    pairs = [pair for q in questions for pair in encode_question(tokenizer, q)]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    with progress_bar(label, len(pairs)) as advance:
        flat = score_pairs(model, pairs, pad_id, batch_size, max_length, on_batch=advance)
    grouped, at = [], 0
    for q in questions:
        grouped.append(flat[at : at + len(q.choices)])
        at += len(q.choices)
    return accuracy(questions, grouped)
