from __future__ import annotations

import polars as pl
import pytest

from meddata.clean import CleanConfig, Cleaned, clean
from meddata.schema import QUARANTINE_SCHEMA, RAW_SCHEMA


def raw(*pairs: tuple[str, str | None, str | None]) -> pl.DataFrame:
    """Rows of (source, question, answer)."""
    return (
        pl.DataFrame(
            {
                "source": [p[0] for p in pairs],
                "source_id": [str(i) for i in range(len(pairs))],
                "input": [p[1] for p in pairs],
                "output": [p[2] for p in pairs],
            }
        )
        .with_columns(pl.lit(None).alias(c) for c in ("collection", "focus", "qtype", "url"))
        .cast(RAW_SCHEMA)
    )


def test_each_reason_is_recorded_once_and_accounting_adds_up() -> None:
    rows = raw(
        ("a", "Q1?", "A long enough answer."),
        ("a", "", "A long enough answer."),
        ("a", "Q2?", None),
        ("a", "Q3?", "   "),
        ("a", "Q4?", "short"),
        ("a", "Q1?", "A long enough answer."),
        ("b", "q1", "a long enough answer"),
        ("b", "Q5?", "Another good answer."),
    )
    result = clean(rows)
    reasons = dict(zip(result.quarantine["source_id"], result.quarantine["reason"], strict=True))
    assert reasons == {
        "1": "missing_question",
        "2": "missing_answer",
        "3": "missing_answer",
        "4": "short_answer",
        "5": "duplicate_exact",
        "6": "duplicate_normalized",
    }
    assert result.rows["source_id"].to_list() == ["0", "7"]
    assert result.stats["a"].rows_in == 6 and result.stats["a"].rows_out == 1
    assert result.stats["b"].dropped == {"duplicate_normalized": 1}
    assert all(s.balanced for s in result.stats.values())


def test_quarantine_keeps_the_original_text() -> None:
    result = clean(raw(("a", "Q?", "ok answer here"), ("a", " Q? ", "ok  answer here")))
    assert result.quarantine.row(0, named=True)["input"] == " Q? "
    assert result.quarantine.schema == pl.Schema(QUARANTINE_SCHEMA)


def test_junk_row_does_not_shadow_a_later_good_duplicate() -> None:
    result = clean(raw(("a", "", "Answer one is fine."), ("a", "Q?", "Answer one is fine.")))
    assert result.rows["source_id"].to_list() == ["1"]


def test_length_bounds_are_optional() -> None:
    rows = raw(("a", "A very long question?", "An answer of some length."))
    assert clean(rows).rows.height == 1
    bounded = clean(rows, CleanConfig(max_question_chars=5, max_answer_chars=5))
    assert bounded.quarantine["reason"].to_list() == ["long_question"]
    assert clean(rows, CleanConfig(max_answer_chars=5)).quarantine["reason"].to_list() == [
        "long_answer"
    ]


def test_reader_rejects_are_counted_in() -> None:
    rejected = pl.DataFrame(
        {
            "source": ["a"],
            "source_id": ["bad.xml"],
            "input": [None],
            "output": [None],
            "reason": ["malformed_xml"],
            "detail": ["not well-formed"],
        },
        schema=QUARANTINE_SCHEMA,
    )
    result = clean(raw(("a", "Q?", "A fine answer.")), rejected=rejected)
    assert result.stats["a"].rows_in == 2
    assert result.stats["a"].dropped == {"malformed_xml": 1}
    assert result.quarantine.height == 1


def test_content_rules_come_before_duplicates_and_say_why() -> None:
    rows = raw(
        ("a", "How do I insert an image?", "Click on upload file in the toolbox."),
        ("a", "What causes flu?", "A virus. {{#ev:youtube|abc}}"),
        ("a", "What causes flu?", "A virus, spread by droplets."),
        ("b", "What causes Flu ?", "Influenza viruses A and B."),
        ("b", "What is gout?", "A kind of arthritis."),
    )
    result = clean(rows)
    reasons = result.quarantine.select("source_id", "reason", "detail").rows()
    assert reasons == [
        ("0", "not_medical_qa", "wiki site help (question)"),
        ("1", "markup_in_answer", "wiki template: {{#ev:youtube|abc}}"),
        ("3", "near_duplicate_question", "same question as a:2"),
    ]
    assert result.rows["source_id"].to_list() == ["2", "4"]
    assert list(result.stats["a"].dropped) == ["not_medical_qa", "markup_in_answer"]
    assert all(s.balanced for s in result.stats.values())


def test_content_rules_can_be_skipped() -> None:
    rows = raw(
        ("a", "How do I insert an image?", "Click on upload file in the toolbox."),
        ("a", "What causes flu?", "A virus. {{#ev:youtube|abc}}"),
        ("b", "What causes Flu ?", "Influenza viruses A and B."),
    )
    skipped = clean(rows, CleanConfig(skip_rules=("not_medical_qa", "markup_in_answer")))
    assert skipped.quarantine["reason"].to_list() == ["near_duplicate_question"]
    assert clean(rows, CleanConfig(skip_rules=("near_duplicate_question",))).rows.height == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"skip_rules": ("markup",)}, "unknown rule"),
        ({"question_similarity": 0.0}, "question_similarity must be in"),
        ({"answer_similarity": 1.5}, "answer_similarity must be in"),
    ],
)
def test_clean_config_is_checked(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CleanConfig(**kwargs)  # type: ignore[arg-type]


def test_drop_moves_rows_and_keeps_the_accounting() -> None:
    result = clean(raw(("a", "Q1?", "Answer one here."), ("b", "Q2?", "Answer two here.")))
    with_ids = Cleaned(
        rows=result.rows.with_columns(id=pl.format("{}:{}", "source", "source_id")),
        quarantine=result.quarantine,
        stats=result.stats,
    )
    dropped = with_ids.drop(
        pl.DataFrame({"id": ["b:1"], "detail": ["13-gram overlap"]}), "benchmark_overlap"
    )
    assert dropped.rows["id"].to_list() == ["a:0"]
    assert dropped.quarantine.select("source", "reason", "detail").row(0) == (
        "b",
        "benchmark_overlap",
        "13-gram overlap",
    )
    assert dropped.stats["b"].dropped == {"benchmark_overlap": 1}
    assert dropped.stats["b"].rows_out == 0 and dropped.stats["b"].balanced
    assert with_ids.stats["b"].rows_out == 1  # the original is left as it was
