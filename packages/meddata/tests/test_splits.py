from __future__ import annotations

import polars as pl

from meddata.splits import assign_splits, stable_sample


def frame(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": [f"s:{i}" for i in range(n)],
            "input": [f"Question {i % (n // 2)}?" for i in range(n)],
        }
    )


def test_split_is_per_question_and_near_the_fraction() -> None:
    rows = assign_splits(frame(4000), seed=42, test_fraction=0.1)
    per_question = rows.group_by("input").agg(pl.col("split").n_unique())
    assert per_question["split"].max() == 1
    share = (rows["split"] == "test").mean()
    assert isinstance(share, float) and 0.07 < share < 0.13


def test_split_does_not_depend_on_row_order_but_on_seed() -> None:
    rows = frame(1000)
    a = assign_splits(rows, 42, 0.1).sort("id")
    b = assign_splits(rows.reverse(), 42, 0.1).sort("id")
    c = assign_splits(rows, 7, 0.1).sort("id")
    assert a["split"].to_list() == b["split"].to_list()
    assert a["split"].to_list() != c["split"].to_list()


def test_question_case_and_punctuation_do_not_change_the_split() -> None:
    rows = pl.DataFrame(
        {"id": [str(i) for i in range(200)], "input": [f"What is X{i}?" for i in range(200)]}
    )
    shouted = rows.with_columns(pl.col("input").str.to_uppercase().str.replace(r"\?", " ?!"))
    assert (
        assign_splits(rows, 1, 0.5)["split"].to_list()
        == assign_splits(shouted, 1, 0.5)["split"].to_list()
    )


def test_stable_sample_is_deterministic_and_order_free() -> None:
    rows = frame(500)
    a = stable_sample(rows, 50, seed=42)
    assert a.height == 50
    assert a.equals(stable_sample(rows.reverse(), 50, seed=42))
    assert not a.equals(stable_sample(rows, 50, seed=43))
