"""The dataset card (README.md) of a variant: Hub YAML metadata plus what a reader must know."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import yaml

from meddata.clean import SourceStats
from meddata.families import TemplateFormat
from meddata.variants import Variant

DISCLAIMER = (
    "**Not for medical use.** This dataset is for research on language models. Its answers come "
    "from public web sources, may be outdated or wrong, and are no substitute for professional "
    "medical advice, diagnosis or treatment. Models trained on it must not be used to make "
    "clinical decisions."
)

SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"))


def size_category(n: int) -> str:
    """The Hub's size bucket for `n` rows."""
    return next((label for bound, label in SIZE_CATEGORIES if n < bound), "100K<n<1M")


def metadata(variant: Variant, n_rows: int) -> dict[str, Any]:
    """The card's YAML header: what the Hub indexes and what `load_dataset` reads (`configs`)."""
    licenses = sorted({s.license for corpus in variant.corpora for s in corpus})
    return {
        "license": licenses[0] if len(licenses) == 1 else licenses,
        "language": ["en"],
        "task_categories": ["question-answering", "text-generation"],
        "tags": ["medical", "instruction-tuning", variant.family],
        "size_categories": [size_category(n_rows)],
        "pretty_name": variant.name,
        "configs": [
            {
                "config_name": "default",
                "data_files": [
                    {"split": "train", "path": "data/train-*"},
                    {"split": "test", "path": "data/test-*"},
                ],
            }
        ],
    }


def _stats_table(variant: Variant, stats: dict[str, SourceStats]) -> str:
    lines = [
        "| source | rows in | dropped | rows out (all variants) |",
        "| --- | ---: | --- | ---: |",
    ]
    for name in variant.sources:
        s = stats[name]
        dropped = ", ".join(f"{reason} {n:,}" for reason, n in s.dropped.items()) or "none"
        lines.append(f"| `{name}` | {s.rows_in:,} | {dropped} | {s.rows_out:,} |")
    return "\n".join(lines)


def _metadata_note(variant: Variant) -> str:
    """Which sources fill the metadata columns (a config's `columns.metadata`)."""
    kept = [
        f"`{s.name}` fills " + ", ".join(f"`{column}`" for column in s.columns.metadata)
        for corpus in variant.corpora
        for s in corpus
        if s.columns.metadata
    ]
    return (
        "metadata: " + "; ".join(kept) + "; null otherwise" if kept else "metadata, all null here"
    )


def render_card(
    variant: Variant,
    splits: dict[str, pl.DataFrame],
    stats: dict[str, SourceStats],
    seed: int,
    sample_seed: int,
    test_fraction: float,
    contamination: Mapping[str, Any] | None = None,
) -> str:
    """The whole README.md of a variant (`seed` splits, `sample_seed` samples)."""
    n_rows = sum(f.height for f in splits.values())
    fmt = variant.format
    template = (
        f"the chat template `{fmt.model}`"
        if isinstance(fmt, TemplateFormat)
        else f"the official template of {fmt.model}"
    )
    example = splits["train"].row(0, named=True)
    sources = "\n".join(
        f"- `{s.name}` ({s.license}): {s.citation}" for corpus in variant.corpora for s in corpus
    )
    sampled = (
        f" A seeded sample (seed {sample_seed}) of {variant.set.sample:,} rows per corpus."
        if variant.set.sample
        else ""
    )
    header = yaml.safe_dump(metadata(variant, n_rows), sort_keys=False, allow_unicode=True)
    return f"""---
{header}---

# {variant.name}

{variant.set.title}, as single-turn instructions for **{fmt.model}** (`{variant.family}`
chat format).{sampled} Built by `meddata` from the sources below; every row was cleaned
(Unicode NFC, whitespace), deduplicated, and rendered with the model's own chat template.

{DISCLAIMER}

## Splits

| split | rows |
| --- | ---: |
| train | {splits["train"].height:,} |
| test | {splits["test"].height:,} |

About {test_fraction:.0%} of distinct questions are held out in `test`, chosen by a seeded hash of
the normalized question (seed {seed}): a question is never in both splits, and is in the same split
in every variant.

## Columns

`id`, `instruction` (system message), `input` (question), `output` (answer), `messages`
(system/user/assistant), `prompt` (the conversation rendered for `{variant.family}`), `source`,
`source_id`, `collection`, `focus`, `qtype`, `url` ({_metadata_note(variant)}).

## Prompt format

`prompt` equals `tokenizer.apply_chat_template(messages, tokenize=False)` with {template}; where
that template has no system role, the system message is put before the first user message,
separated by a blank line, as the model makers do. One example:

```text
{example["prompt"]}
```

## Sources

{sources}

## Cleaning

Rows dropped while cleaning, per source (counted once over all variants; every dropped row is kept
with its reason in the build's quarantine file). Besides structural rules (missing, short and
duplicate rows), `not_medical_qa` drops rows that are not medical question/answer content (wiki
help pages, placeholder text, paraphrasing requests instead of questions, links instead of
answers), `markup_in_answer` answers with HTML or wiki markup left in, and
`near_duplicate_question` rows whose question an earlier row already asks (MinHash LSH; the first
row in read order is kept).

{_stats_table(variant, stats)}

## Benchmark contamination

{_contamination(contamination)}
"""


def _contamination(report: Mapping[str, Any] | None) -> str:
    if report is None:
        return "Not checked (the build ran without benchmark data)."
    kept = str(report["action"]).startswith("kept")
    fate = (
        "kept in the data (the build ran with `--keep-contaminated`)"
        if kept
        else "removed (quarantine reason `benchmark_overlap`)"
    )
    lines = [
        f"All {report['training_rows']:,} training rows of this build (every source) were checked "
        "against every item of the benchmarks below: 13-gram overlap as lm-evaluation-harness "
        f"defines decontamination, and near-duplicate questions. Rows that hit an item are {fate}.",
        "",
        "| benchmark | items checked | items hit | training rows hit |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, b in report["benchmarks"].items():
        lines.append(
            f"| `{name}` | {b['items_checked']:,} | {b['items_hit']:,} | "
            f"{b['training_rows_hit']:,} |"
        )
    return "\n".join(lines)
