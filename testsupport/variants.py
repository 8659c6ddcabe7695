"""Dataset variant folders with every column of docs/schemas.md §2, written in the Hub layout
(each row checked against schemas/variant_row.schema.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testsupport.schemas import validate_variant
from testsupport.templates import SYSTEM, reference_render

QA = [
    ("What is asthma?", "A chronic disease of the airways."),
    ("What causes anemia?", "Low iron, blood loss or marrow disease."),
    ("How is diabetes treated?", "With insulin, diet and exercise."),
    ("What is a fever?", "A body temperature above normal."),
    ("Is smoking harmful?", "Yes, it damages the lungs and heart."),
    ("What does the liver do?", "It filters blood and makes bile."),
]
"""Six short question/answer pairs (the evaluation tests' held-out set)."""

DRUGS = ["metformin", "insulin", "aspirin", "warfarin", "amoxicillin"]


def variant_row(i: int, question: str, answer: str, family: str = "mistral") -> dict[str, Any]:
    """One row of a variant; `prompt` is the family's official rendering of `messages`."""
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": question},
        {"role": "assistant", "content": answer},
    ]
    return {
        "id": f"medquad:{i}",
        "instruction": SYSTEM,
        "input": question,
        "output": answer,
        "messages": messages,
        "prompt": reference_render(family, messages),
        "source": "medquad",
        "source_id": str(i),
        "collection": "GHR",
        "focus": f"condition {i}",
        "qtype": "treatment",
        "url": None,
    }


def qa_rows(n: int, offset: int, family: str = "mistral") -> list[dict[str, Any]]:
    """Learnable synthetic rows: "What is the first-line treatment of condition i?"."""
    return [
        variant_row(
            i,
            f"What is the first-line treatment of condition {i}?",
            f"The first-line treatment of condition {i} is {DRUGS[i % 5]}, taken daily.",
            family,
        )
        for i in range(offset, offset + n)
    ]


def qa_pair_rows(pairs: list[tuple[str, str]], family: str = "mistral") -> list[dict[str, Any]]:
    return [variant_row(i, q, a, family) for i, (q, a) in enumerate(pairs)]


def write_variant(folder: Path, train: list[dict[str, Any]], test: list[dict[str, Any]]) -> Path:
    """`folder/data/{train,test}-00000-of-00001.parquet`, as `meddata build` lays a variant out."""
    import polars as pl

    (folder / "data").mkdir(parents=True, exist_ok=True)
    pl.DataFrame(train).write_parquet(folder / "data" / "train-00000-of-00001.parquet")
    pl.DataFrame(test).write_parquet(folder / "data" / "test-00000-of-00001.parquet")
    validate_variant(folder)
    return folder


def write_family_variant(folder: Path, family: str, n_train: int = 48, n_test: int = 8) -> Path:
    """A synthetic variant of `family` (the training tests' data)."""
    return write_variant(folder, qa_rows(n_train, 0, family), qa_rows(n_test, 1000, family))
