"""Benchmark contamination: lm-evaluation-harness's 13-grams, near-duplicate questions."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meddata.contamination import check, hit_rows, ngrams, report
from meddata.evalsets import load_benchmarks

CONTEXT = (
    "Programmed cell death is the regulated death of cells within an organism, and the lace "
    "plant produces perforations in its leaves through this process during development."
)
BENCH_QUESTION = (
    "Do mitochondria play a role in remodelling lace plant leaves during programmed cell death?"
)

words = st.sampled_from(["Cell", "death", "É", "x-ray", "don't", "a", "ÆON", "1.5", "?", "(b)"])
texts = st.lists(words, max_size=40).flatmap(
    lambda ws: st.lists(
        st.sampled_from([" ", "\n", "\t", "\u2003", "\x1c", "  "]),
        min_size=len(ws),
        max_size=len(ws),
    ).map(lambda seps: "".join(w + s for w, s in zip(ws, seps, strict=True)))
)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_ngrams_are_lm_evaluation_harness_ngrams(text: str) -> None:
    pytest.importorskip("lm_eval")  # not in the meddata-alone env (testsupport/skips.py)
    from lm_eval.decontamination.janitor import Janitor, word_ngrams

    expected = set(word_ngrams(Janitor().normalize_string(text), 13))
    assert ngrams(text) == expected


def training(*rows: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [f"src:{i}" for i in range(len(rows))],
            "source": ["src"] * len(rows),
            "input": [q for q, _ in rows],
            "output": [a for _, a in rows],
        }
    )


@pytest.fixture
def eval_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "eval" / "pubmedqa"
    folder.mkdir(parents=True)
    item = {"QUESTION": BENCH_QUESTION, "CONTEXTS": [CONTEXT], "final_decision": "yes"}
    (folder / "ori_pqal.json").write_text(json.dumps({"21645374": item}))
    (folder / "test_ground_truth.json").write_text(json.dumps({"21645374": "yes"}))
    other = tmp_path / "eval" / "medqa"
    other.mkdir()
    (other / "test.jsonl").write_text(json.dumps({"realidx": 7, "question": "Unrelated?"}) + "\n")
    return tmp_path / "eval"


def test_a_copied_passage_and_a_copied_question_are_found(eval_dir: Path) -> None:
    rows = training(
        ("What is flu?", "A virus that spreads by droplets in the air and infects the airways."),
        (
            "What do lace plants do?",
            "Note: the lace plant PRODUCES perforations, in its leaves, through this process "
            "(during development).",
        ),
        (BENCH_QUESTION.replace("remodelling", "remodeling"), "Yes."),
    )
    found = check(rows, load_benchmarks(eval_dir), question_similarity=0.8)
    pubmedqa = {hits.benchmark.name: hits for hits in found}["pubmedqa"]
    assert [(h["row"], h["match"]) for h in pubmedqa.rows] == [
        ("src:1", "13-gram"),
        ("src:2", "question"),
    ]
    assert pubmedqa.rows[0]["evidence"] == (
        "the lace plant produces perforations in its leaves through this process during development"
    )
    summary = report(found, "test rows", rows.height, "removed", 0.8)
    assert summary["benchmarks"]["pubmedqa"] == {  # type: ignore[index]
        "files": ["ori_pqal.json"],
        "ignored_files": ["test_ground_truth.json"],
        "items_checked": 1,
        "items_hit": 1,
        "training_rows_hit": 2,
        "hits": pubmedqa.rows,
    }
    assert summary["benchmarks"]["medqa"]["items_hit"] == 0  # type: ignore[index]
    assert hit_rows(found)["id"].to_list() == ["src:1", "src:2"]


def test_the_same_words_in_another_order_are_not_an_overlap(eval_dir: Path) -> None:
    # Same 13 words, so the same rolling sum: a candidate the exact check must reject.
    shuffled = " ".join(reversed(CONTEXT.split()[-13:]))
    found = check(training(("Q?", shuffled)), load_benchmarks(eval_dir), 0.8)
    assert all(not hits.rows for hits in found)


def test_odd_whitespace_and_case_do_not_hide_an_overlap(eval_dir: Path) -> None:
    text = "\u2003".join(CONTEXT.upper().split()) + "\x1c!"
    found = check(training(("Q?", text)), load_benchmarks(eval_dir), 0.8)
    assert [h["match"] for hits in found for h in hits.rows] == ["13-gram"]
