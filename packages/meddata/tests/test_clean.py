from __future__ import annotations

import polars as pl
import pytest

from meddata.clean import CleanConfig, clean, dedup_key, normalize_text
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  What  is\tflu? ", "What is flu?"),
        ("line one  \r\n   line two\r\rthree", "line one\nline two\n\nthree"),
        ("a\n\n\n\n\nb", "a\n\nb"),
        ("zero\u200bwidth\ufeff and\u00a0nbsp", "zerowidth and nbsp"),
        ("e\u0301", "\u00e9"),
        ("10⁹ cells/m²", "10⁹ cells/m²"),
        ("bell\x07 and form\x0cfeed", "bell and formfeed"),
    ],
)
def test_normalize_text(text: str, expected: str) -> None:
    assert pl.select(normalize_text(pl.lit(text))).item() == expected


def test_dedup_key_ignores_case_punctuation_and_spacing() -> None:
    texts = pl.Series("t", ["What is Flu?", "what  is flu", "What is flu ?!", "What is flux?"])
    keys = texts.to_frame().select(dedup_key(pl.col("t")))["t"].to_list()
    assert keys[0] == keys[1] == keys[2] != keys[3]


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
