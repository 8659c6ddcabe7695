"""Cleaning: normalize text, drop unusable and duplicate rows, account for every drop.

One lazy polars pipeline over all sources at once. Each row gets at most one drop reason (the
first that applies, in `REASONS` order); dropped rows go to the quarantine with that reason, and
the per-source stats always satisfy rows_in == sum(dropped) + rows_out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import polars as pl

from meddata.neardup import QuestionIndex, empty_near_duplicates, near_duplicates
from meddata.quality import content_details
from meddata.raw.result import READ_REASONS
from meddata.schema import QUARANTINE_SCHEMA, empty_quarantine
from meddata.text import dedup_key, normalize_text

REASONS = (
    "missing_question",
    "missing_answer",
    "short_answer",
    "long_question",
    "long_answer",
    "not_medical_qa",
    "markup_in_answer",
    "duplicate_exact",
    "duplicate_normalized",
    "near_duplicate_question",
)
"""Drop reasons, in the order they are tested (the readers add theirs, raw.READ_REASONS; the
build adds `benchmark_overlap` from its contamination check)."""


def reason_rank(reason: str) -> int:
    """Where a reason sorts in the statistics: the readers', cleaning's, then the build's."""
    order = (*READ_REASONS, *REASONS, "benchmark_overlap")
    return order.index(reason) if reason in order else len(order)


QUALITY_RULES = ("not_medical_qa", "markup_in_answer", "near_duplicate_question")
"""The content rules (see quality.py, neardup.py); each can be skipped."""


@dataclass(frozen=True)
class CleanConfig:
    """Bounds for what counts as a usable question/answer pair."""

    min_answer_chars: int = 10
    """Answers shorter than this (after normalization) are dropped as `short_answer`."""
    max_question_chars: int | None = None
    """Optional upper bound on question length (`long_question`)."""
    max_answer_chars: int | None = None
    """Optional upper bound on answer length (`long_answer`)."""
    skip_rules: tuple[str, ...] = ()
    """Content rules not to apply (any of `QUALITY_RULES`)."""
    question_similarity: float = 0.8
    """Near-duplicate questions: 5-character-shingle Jaccard at least this..."""
    answer_similarity: float = 0.9
    """...and their answers' word-trigram Jaccard at least this (identical questions: any)."""

    def __post_init__(self) -> None:
        unknown = [r for r in self.skip_rules if r not in QUALITY_RULES]
        if unknown:
            raise ValueError(f"unknown rule(s) {unknown}; known: {', '.join(QUALITY_RULES)}")
        for name in ("question_similarity", "answer_similarity"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")


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

    def drop(self, dropped: pl.DataFrame, reason: str) -> Cleaned:
        """Move the rows of `dropped` (`id` and `detail`; rows need ids) to the quarantine."""
        moved = self.rows.join(dropped.select("id", "detail"), on="id")
        stats = {name: replace(s, dropped=dict(s.dropped)) for name, s in self.stats.items()}
        for (source,), group in moved.group_by("source", maintain_order=True):
            counted = stats[str(source)]
            counted.dropped[reason] = counted.dropped.get(reason, 0) + group.height
            counted.rows_out -= group.height
        entries = moved.with_columns(reason=pl.lit(reason)).select(*QUARANTINE_SCHEMA)
        quarantine = pl.concat([self.quarantine, entries])
        rows = self.rows.join(dropped.select("id"), on="id", how="anti")
        kept = dict(rows.group_by("source").len().iter_rows())
        if any(s.rows_out != kept.get(name, 0) or not s.balanced for name, s in stats.items()):
            raise AssertionError(f"row accounting does not add up after {reason}: {stats}")
        return Cleaned(rows=rows, quarantine=quarantine, stats=stats)


ROW_LABEL = pl.concat_str(["source", "collection", "source_id"], separator=":", ignore_nulls=True)
"""How a detail names another row: its id without the occurrence suffix (build.prepare_rows)."""


def clean(
    raw: pl.DataFrame,
    config: CleanConfig | None = None,
    rejected: pl.DataFrame | None = None,
    index: QuestionIndex | None = None,
) -> Cleaned:
    """Clean the rows of all sources together, so duplicates across sources are caught too.

    `rejected` holds what the readers already quarantined (a malformed XML file counts as one
    row in and one row dropped), so the accounting covers it as well. `index`, when given, is
    built over the questions, for the benchmark check to reuse.
    """
    config = config or CleanConfig()
    q, a = pl.col("input"), pl.col("output")
    q_len, a_len = q.str.len_chars(), a.str.len_chars()
    none = pl.lit(False)
    content = [r for r in ("not_medical_qa", "markup_in_answer") if r not in config.skip_rules]
    checks = {
        "missing_question": q.is_null() | (q_len == 0),
        "missing_answer": a.is_null() | (a_len == 0),
        "short_answer": a_len < config.min_answer_chars,
        "long_question": none
        if config.max_question_chars is None
        else q_len > config.max_question_chars,
        "long_answer": none if config.max_answer_chars is None else a_len > config.max_answer_chars,
        **{name: pl.col(f"_{name}").is_not_null() for name in content},
    }
    reason = pl.lit(None, dtype=pl.String)
    for name in reversed(list(checks)):
        reason = pl.when(checks[name]).then(pl.lit(name)).otherwise(reason)

    usable = pl.col("reason").is_null()
    exact = pl.struct("raw_input", "raw_output")
    normalized = (
        raw.lazy()
        .with_row_index("order")
        .with_columns(raw_input=q, raw_output=a)
        .with_columns(normalize_text(q), normalize_text(a))
        .collect()
    )
    flagged = content_details(normalized.select("order", "input", "output"))
    # Duplicates are judged among usable rows only, so a junk row never shadows a good one.
    staged = (
        normalized.lazy()
        .join(
            flagged.lazy().rename(lambda c: c if c == "order" else f"_{c}"),
            on="order",
            how="left",
            maintain_order="left",
        )
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
    )
    near = empty_near_duplicates()
    if "near_duplicate_question" not in config.skip_rules:
        candidates = staged.filter(usable).select("order", "input", "output", label=ROW_LABEL)
        near = near_duplicates(
            candidates, config.question_similarity, config.answer_similarity, index
        )
    near = near.rename({"detail": "_near"})
    staged = staged.join(near, on="order", how="left", maintain_order="left").with_columns(
        reason=pl.when(pl.col("_near").is_not_null())
        .then(pl.lit("near_duplicate_question"))
        .otherwise(pl.col("reason"))
    )
    detail = (
        pl.when(pl.col("reason").str.starts_with("duplicate"))
        .then(pl.lit("a usable row with the same question and answer came first"))
        .when(pl.col("reason") == "short_answer")
        .then(pl.format("answer has {} characters", a_len))
        .when(pl.col("reason") == "near_duplicate_question")
        .then(pl.col("_near"))
    )
    for name in content:
        detail = detail.when(pl.col("reason") == name).then(pl.col(f"_{name}"))
    staged = staged.with_columns(detail=detail.otherwise(pl.lit(None)))
    keep = staged.filter(pl.col("reason").is_null())
    rows = keep.select(raw.columns)
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
    for s in stats.values():
        s.dropped = dict(sorted(s.dropped.items(), key=lambda item: reason_rank(item[0])))
    unbalanced = [name for name, s in stats.items() if not s.balanced]
    if unbalanced:
        raise AssertionError(f"row accounting does not add up for {unbalanced}: {stats}")
    return stats
