"""Text normalization shared by cleaning, splitting and the duplicate rules."""

from __future__ import annotations

import polars as pl


def normalize_text(expr: pl.Expr) -> pl.Expr:
    """Unicode NFC (not NFKC: it would turn "10⁹" into "109"), one kind of newline, single
    spaces, at most one blank line, no zero-width or control characters, no outer whitespace.

    Each pattern matches only text it changes (a lone space or newline is left alone), so the
    replacements skip the bulk of the corpus instead of rewriting every space.
    """
    return (
        nfc(expr)
        .str.replace_all(r"\r\n?", "\n")
        .str.replace_all(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]", "")
        .str.replace_all(r"[^\S\n]{2,}|[^\S\n ]", " ")
        .str.replace_all(r" \n ?|\n ", "\n")
        .str.replace_all(r"\n{3,}", "\n\n")
        .str.strip_chars()
    )


def nfc(expr: pl.Expr) -> pl.Expr:
    """Unicode NFC. Only non-ASCII texts (a few percent) can change, and only they are passed
    to the normalizer: the others are null there, which it skips."""
    non_ascii = expr.str.len_bytes() != expr.str.len_chars()
    return pl.coalesce(pl.when(non_ascii).then(expr).str.normalize("NFC"), expr)


def dedup_key(expr: pl.Expr) -> pl.Expr:
    """Text that differs only in case, punctuation or spacing maps to the same key."""
    return (
        expr.str.to_lowercase()
        .str.replace_all(r"[^\p{L}\p{N} ]+", " ")
        .str.replace_all(r" {2,}", " ")
        .str.strip_chars()
    )
