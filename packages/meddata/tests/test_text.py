from __future__ import annotations

import polars as pl
import pytest

from meddata.text import dedup_key, normalize_text


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
