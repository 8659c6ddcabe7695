"""Near-duplicate questions: which row is kept, what counts as the same question, LSH recall."""

from __future__ import annotations

import collections
import math
from pathlib import Path

import polars as pl
import pytest

from meddata.neardup import QuestionIndex, jaccard, near_duplicates, question_key, shingles


def usable(*rows: tuple[str, str]) -> pl.DataFrame:
    """Rows of (question, answer) in read order, labelled r0, r1, ..."""
    return pl.DataFrame(
        {
            "order": list(range(len(rows))),
            "label": [f"r{i}" for i in range(len(rows))],
            "input": [q for q, _ in rows],
            "output": [a for _, a in rows],
        },
        schema={"order": pl.UInt32, "label": pl.String, "input": pl.String, "output": pl.String},
    )


GENERIC = (
    "Noonan syndrome is a genetic disorder that causes abnormal development of multiple parts of "
    "the body, including the heart, the face and the skeleton, and short stature."
)


def test_same_question_keeps_the_first_row_whatever_the_answers() -> None:
    found = near_duplicates(
        usable(
            ("What are the treatments for Alzheimer's Disease ?", "Answer one, long enough."),
            ("What are the treatments for Alzheimer disease?", "A different answer entirely."),
            ("what are the treatments for alzheimer%27s disease", "Yet another answer text."),
        ),
        0.8,
        0.9,
    )
    assert found["order"].to_list() == [1, 2]
    assert found["detail"].to_list() == ["same question as r0"] * 2


def test_near_identical_question_with_the_same_answer_is_dropped() -> None:
    found = near_duplicates(
        usable(
            ("What is (are) Aicardi-Goutieres syndrome type 4 ?", GENERIC),
            ("What is (are) Aicardi-Goutieres syndrome type 5 ?", GENERIC),
        ),
        0.8,
        0.9,
    )
    assert found["order"].to_list() == [1]
    assert found["detail"].item().startswith("question 9")
    assert found["detail"].item().endswith("like r0's, answer 100% alike")


def test_near_identical_question_with_another_answer_is_kept() -> None:
    found = near_duplicates(
        usable(
            ("What are the symptoms of Spinocerebellar ataxia 2 ?", GENERIC),
            (
                "What are the symptoms of Spinocerebellar ataxia 3 ?",
                "Ataxia, dysarthria, and more.",
            ),
        ),
        0.8,
        0.9,
    )
    assert found.is_empty()


def test_a_dropped_row_does_not_drop_its_own_near_duplicates() -> None:
    # r1 goes as r0's near-duplicate; r2 is only like r1, so it stays.
    found = near_duplicates(
        usable(
            ("What is (are) the Noonan syndrome type 1 ?", GENERIC),
            ("What is (are) the Noonan syndrome type 12 ?", GENERIC),
            ("What is (are) the Noonan syndrome type 123 ?", GENERIC),
        ),
        0.9,
        0.9,
    )
    q = jaccard(shingles(question_key_of("type 1")), shingles(question_key_of("type 123")))
    assert q < 0.9
    assert found["order"].to_list() == [1]


def question_key_of(suffix: str) -> str:
    text = f"What is (are) the Noonan syndrome {suffix} ?"
    return str(pl.select(question_key(pl.lit(text))).item())


def test_question_key_ignores_possessives_and_escapes() -> None:
    keys = [
        question_key_of("type 1"),
        str(pl.select(question_key(pl.lit("Paget%27s disease"))).item()),
        str(pl.select(question_key(pl.lit("Paget’s Disease"))).item()),
    ]
    assert keys[1] == keys[2] == "paget disease"


def exact_pairs(keys: list[str], threshold: float) -> set[tuple[int, int]]:
    """Every pair with shingle Jaccard >= threshold, by prefix filtering (exact, no sketches)."""
    sets = [shingles(k) for k in keys]
    freq = collections.Counter(x for s in sets for x in s)
    index: dict[bytes, list[int]] = collections.defaultdict(list)
    pairs = set()
    for j, s in enumerate(sets):
        ordered = sorted(s, key=lambda x: (freq[x], x))
        prefix = ordered[: len(ordered) - math.ceil(threshold * len(ordered)) + 1]
        candidates = {i for x in prefix for i in index[x]}
        pairs.update((i, j) for i in candidates if jaccard(sets[i], s) >= threshold)
        for x in prefix:
            index[x].append(j)
    return pairs


@pytest.mark.slow
def test_lsh_finds_the_near_identical_questions_of_the_shipped_data(real_build: Path) -> None:
    # The questions the rule compares: kept rows' and those it dropped.
    rows = pl.read_parquet(real_build / "clean" / "rows.parquet")
    quarantine = pl.read_parquet(real_build / "clean" / "quarantine.parquet")
    dropped = quarantine.filter(pl.col("reason") == "near_duplicate_question")
    questions = pl.concat([rows.select("input"), dropped.select("input")])
    keys = questions.select(question_key(pl.col("input")))["input"].unique(maintain_order=True)
    keys = keys.to_list()
    truth = exact_pairs(keys, 0.8)
    found = {(i, j) for i, j, _ in QuestionIndex().build(keys).pairs(0.8)}
    sets = [shingles(k) for k in keys]
    close = {(i, j) for i, j in truth if jaccard(sets[i], sets[j]) >= 0.9}
    assert found <= truth
    assert len(found) / len(truth) > 0.9  # measured: 0.94 (64 permutations, LSH from 0.7)
    assert len(found & close) / len(close) > 0.99  # measured: 0.997
