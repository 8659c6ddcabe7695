"""Cleaning: normalize text, drop unusable and duplicate rows, account for every drop.

One lazy polars pipeline over all sources at once. Each row gets at most one drop reason (the
first that applies, in `REASONS` order); dropped rows go to the quarantine with that reason, and
the per-source stats always satisfy rows_in == sum(dropped) + rows_out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import polars as pl

from meddata.schema import QUARANTINE_SCHEMA, empty_quarantine

REASONS = (
    "missing_question",
    "missing_answer",
    "short_answer",
    "long_question",
    "long_answer",
    "duplicate_exact",
    "duplicate_normalized",
)
"""Drop reasons, in the order they are tested (the readers add theirs: raw.READ_REASONS)."""


@dataclass(frozen=True)
class CleanConfig:
    """Bounds for what counts as a usable question/answer pair."""

    min_answer_chars: int = 10
    """Answers shorter than this (after normalization) are dropped as `short_answer`."""
    max_question_chars: int | None = None
    """Optional upper bound on question length (`long_question`)."""
    max_answer_chars: int | None = None
    """Optional upper bound on answer length (`long_answer`)."""


@dataclass
class SourceStats:
    """Row accounting for one source."""

    rows_in: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    rows_out: int = 0

    @property
    def balanced(self) -> bool:
        return self.rows_in == sum(self.dropped.values()) + self.rows_out


@dataclass(frozen=True)
class Cleaned:
    """The kept rows, the quarantine, and the accounting that ties them together."""

    rows: pl.DataFrame
    quarantine: pl.DataFrame
    stats: dict[str, SourceStats]

    def stats_json(self) -> dict[str, dict[str, object]]:
        return {name: asdict(s) for name, s in self.stats.items()}


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


def clean(
    raw: pl.DataFrame, config: CleanConfig | None = None, rejected: pl.DataFrame | None = None
) -> Cleaned:
    """Clean the rows of all sources together, so duplicates across sources are caught too.

    `rejected` holds what the readers already quarantined (a malformed XML file counts as one
    row in and one row dropped), so the accounting covers it as well.
    """
    config = config or CleanConfig()
    q, a = pl.col("input"), pl.col("output")
    q_len, a_len = q.str.len_chars(), a.str.len_chars()
    none = pl.lit(False)
    checks = {
        "missing_question": q.is_null() | (q_len == 0),
        "missing_answer": a.is_null() | (a_len == 0),
        "short_answer": a_len < config.min_answer_chars,
        "long_question": none
        if config.max_question_chars is None
        else q_len > config.max_question_chars,
        "long_answer": none if config.max_answer_chars is None else a_len > config.max_answer_chars,
    }
    reason = pl.lit(None, dtype=pl.String)
    for name in reversed(list(checks)):
        reason = pl.when(checks[name]).then(pl.lit(name)).otherwise(reason)

    usable = pl.col("reason").is_null()
    exact = pl.struct("raw_input", "raw_output")
    # Duplicates are judged among usable rows only, so a junk row never shadows a good one.
    staged = (
        raw.lazy()
        .with_row_index("order")
        .with_columns(raw_input=q, raw_output=a)
        .with_columns(normalize_text(q), normalize_text(a))
        .with_columns(reason=reason)
        .with_columns(
            reason=pl.when(usable & ~exact.is_first_distinct().over(usable))
            .then(pl.lit("duplicate_exact"))
            .otherwise(pl.col("reason"))
        )
        .collect()
    )
    repeats = normalized_repeats(staged.filter(usable))
    staged = staged.with_columns(
        reason=pl.when(pl.col("order").is_in(repeats.implode()))
        .then(pl.lit("duplicate_normalized"))
        .otherwise(pl.col("reason"))
    ).with_columns(
        detail=pl.when(pl.col("reason").str.starts_with("duplicate"))
        .then(pl.lit("a usable row with the same question and answer came first"))
        .when(pl.col("reason") == "short_answer")
        .then(pl.format("answer has {} characters", a_len))
        .otherwise(pl.lit(None))
    )
    keep = staged.filter(pl.col("reason").is_null())
    rows = keep.drop("order", "raw_input", "raw_output", "reason", "detail")
    dropped = staged.filter(pl.col("reason").is_not_null()).select(
        "source",
        "source_id",
        pl.col("raw_input").alias("input"),
        pl.col("raw_output").alias("output"),
        "reason",
        "detail",
    )
    rejected = empty_quarantine() if rejected is None else rejected
    schema = pl.Schema(QUARANTINE_SCHEMA)
    quarantine = pl.concat([rejected.cast(schema), dropped.cast(schema)])
    return Cleaned(rows=rows, quarantine=quarantine, stats=account(raw, rejected, quarantine, rows))


def normalized_repeats(usable: pl.DataFrame) -> pl.Series:
    """`order` of every usable row whose normalized (question, answer) an earlier row has.

    Only rows sharing a question key can repeat one, so only their answers (a few percent)
    get keys: the answer key is the costliest step of cleaning.
    """
    question_key = dedup_key(pl.col("input"))
    shared = usable.filter(question_key.is_duplicated())
    normalized = pl.struct(question_key, dedup_key(pl.col("output")))
    return shared.filter(~normalized.is_first_distinct())["order"]


def account(
    raw: pl.DataFrame, rejected: pl.DataFrame, quarantine: pl.DataFrame, rows: pl.DataFrame
) -> dict[str, SourceStats]:
    """Per-source rows in, dropped per reason, rows out; raises if anything vanished."""
    stats: dict[str, SourceStats] = {}
    for frame in (raw, rejected):
        for (source,), group in frame.group_by("source", maintain_order=True):
            stats.setdefault(str(source), SourceStats()).rows_in += group.height
    for (source, reason), group in quarantine.group_by("source", "reason", maintain_order=True):
        stats[str(source)].dropped[str(reason)] = group.height
    for (source,), group in rows.group_by("source", maintain_order=True):
        stats[str(source)].rows_out = group.height
    unbalanced = [name for name, s in stats.items() if not s.balanced]
    if unbalanced:
        raise AssertionError(f"row accounting does not add up for {unbalanced}: {stats}")
    return stats
