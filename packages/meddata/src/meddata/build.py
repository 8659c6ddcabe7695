"""The build: raw sources → clean rows → variants in the Hub dataset layout, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import polars as pl

from meddata import __version__
from meddata.atomic import staged_dir, swap_in
from meddata.card import render_card
from meddata.clean import CleanConfig, Cleaned, clean
from meddata.config import DataConfig, load_config
from meddata.contamination import screen
from meddata.evalsets import load_benchmarks
from meddata.families import render_column
from meddata.formats import messages_expr
from meddata.neardup import QuestionIndex
from meddata.raw import check_inputs, read_source
from meddata.splits import assign_splits, stable_sample
from meddata.variants import Variant

COLUMNS = (
    "id",
    "instruction",
    "input",
    "output",
    "messages",
    "prompt",
    "source",
    "source_id",
    "collection",
    "focus",
    "qtype",
    "url",
)
"""Column order of every variant (docs/schemas.md §2)."""

SPLITS = ("train", "test")

Step = Callable[[str], None]
"""Called with a short description as each stage of the build starts."""


def stage_count(variants: list[Variant], config: BuildConfig) -> int:
    """How many times `build` calls its `step` callback, for a progress bar's total."""
    return len(config.data.sources) + 4 + len(variants)


@dataclass(frozen=True)
class BuildConfig:
    """Everything a build depends on; the same config gives byte-identical datasets."""

    data: DataConfig = field(default_factory=load_config)
    """Sources, chat families and variants (default: the shipped config)."""
    raw_dir: Path = Path("data/raw")
    """Folder the sources' paths are relative to (default: the embedded raw data)."""
    out_dir: Path = Path("data/processed")
    """Where the variant folders are written."""
    clean_dir: Path = Path("data/clean")
    """Where the cleaned rows, the quarantine and the cleaning stats are written."""
    inputs: dict[str, str] = field(default_factory=dict)
    """Per source name, a file/folder or `hub[:id]` read instead of the configured one."""
    verify: bool = True
    """Check the configured files against SHA256SUMS in the raw folder (where listed)."""
    strict: bool = False
    """Stop at the first row a reader cannot read instead of quarantining it."""
    seed: int = 42
    """Seed of the train/test split, and of the samples of variants that set no seed."""
    test_fraction: float = 0.1
    """Share of distinct questions held out in `test`."""
    cleaning: CleanConfig = field(default_factory=CleanConfig)
    """Bounds for usable rows and the content rules."""
    eval_dir: Path | None = Path("data/eval")
    """Benchmarks the training rows are checked against (None: no check)."""
    keep_contaminated: bool = False
    """Keep training rows that overlap a benchmark (they are reported either way)."""


@dataclass(frozen=True)
class VariantResult:
    """What was written for one variant."""

    variant: Variant
    path: Path
    rows: dict[str, int]


def read_and_clean(config: BuildConfig, step: Step, index: QuestionIndex | None = None) -> Cleaned:
    """Read every source (duplicates are judged across all of them) and clean them together."""
    check_inputs(config.data.sources, config.raw_dir, config.inputs)
    reads = []
    for source in config.data.sources:
        step(f"reading {source.name}")
        override = config.inputs.get(source.name)
        reads.append(
            read_source(
                source, config.raw_dir, override, verify=config.verify, strict=config.strict
            )
        )
    step("cleaning")
    raw = pl.concat([r.rows for r in reads])
    rejected = pl.concat([r.quarantine for r in reads])
    return clean(raw, config.cleaning, rejected, index)


def prepare_rows(cleaned: Cleaned, config: BuildConfig) -> pl.DataFrame:
    """Clean rows with a unique, stable id, the instruction and the train/test split.

    Some MedQuAD documents reuse another's question ids (42 CancerGov pairs), so a repeated id
    gets an occurrence suffix (`#1`, `#2`, ...) in source order.
    """
    base = pl.concat_str(["source", "collection", "source_id"], separator=":", ignore_nulls=True)
    occurrence = pl.int_range(pl.len()).over(base)
    rows = cleaned.rows.with_columns(
        id=pl.when(occurrence == 0)
        .then(base)
        .otherwise(pl.concat_str([base, pl.lit("#"), occurrence.cast(pl.String)])),
        instruction=instruction_expr(config.data),
    )
    return assign_splits(rows, config.seed, config.test_fraction)


def instructions(data: DataConfig, sources: tuple[str, ...] | None = None) -> dict[str, str]:
    """The system message of each source's rows."""
    chosen = data.sources if sources is None else [data.source(name) for name in sources]
    return {s.name: s.instruction or data.instruction for s in chosen}


def instruction_expr(data: DataConfig) -> pl.Expr:
    by_source = instructions(data)
    if len(set(by_source.values())) == 1:
        return pl.lit(next(iter(by_source.values())))
    return pl.col("source").replace_strict(by_source, return_dtype=pl.String)


def render_all(rows: pl.DataFrame, variants: list[Variant]) -> pl.DataFrame:
    """`messages` and one `prompt_<family>` column, each rendered once over all rows."""
    formats = {v.family: v.format for v in variants}
    prompts = [render_column(formats[f], rows).alias(f"prompt_{f}") for f in sorted(formats)]
    return rows.with_columns(messages_expr().alias("messages"), *prompts)


Group = tuple[tuple[str, ...], int | None, int]
"""A corpus's rows in a set: its sources and, for a sampled set, the rows to take and the seed."""


def group_rows(rendered: pl.DataFrame, group: Group) -> pl.DataFrame:
    """The rows of one corpus in a set (the same in every family)."""
    sources, sample, seed = group
    part = rendered.filter(pl.col("source").is_in(sources))
    return part if sample is None else stable_sample(part, sample, seed)


def sample_seed(variant: Variant, config: BuildConfig) -> int:
    return config.seed if variant.set.seed is None else variant.set.seed


def groups_of(variant: Variant, config: BuildConfig) -> list[Group]:
    seed = sample_seed(variant, config)
    return [(tuple(s.name for s in c), variant.set.sample, seed) for c in variant.corpora]


@dataclass
class Shards:
    """Writes each distinct parquet shard once.

    A variant's split is one shard per corpus, in the set's order, so the combined set holds
    exactly the files of the two single-corpus sets: those are hard-linked, not encoded again.
    """

    written: dict[tuple[str, Group, str], tuple[Path, str]] = field(default_factory=dict)
    """Per (family, group, split): the first file written and its sha256."""

    def write(self, key: tuple[str, Group, str], frame: pl.DataFrame, path: Path) -> str:
        """Write (or link) `frame` to `path`; returns the file's sha256."""
        if key in self.written:
            first, digest = self.written[key]
            _link_or_copy(first, path)
            return digest
        frame.write_parquet(path, compression="zstd", compression_level=1, statistics=False)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        self.written[key] = (path, digest)
        return digest


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def write_variant(
    variant: Variant,
    groups: dict[Group, pl.DataFrame],
    built: Built,
    config: BuildConfig,
    folder: Path,
    shards: Shards,
) -> dict[str, int]:
    """One variant folder in the Hub dataset layout; returns rows per split.

    `groups` holds each corpus's rows (from `group_rows`) with a prompt column per family.
    """
    prompt = pl.col(f"prompt_{variant.family}").alias("prompt")
    own = groups_of(variant, config)
    (folder / "data").mkdir(parents=True)
    splits: dict[str, pl.DataFrame] = {}
    digests: dict[str, str] = {}
    for split in SPLITS:
        frames = []
        for index, group in enumerate(own):
            frame = groups[group].filter(pl.col("split") == split).with_columns(prompt)
            frames.append(frame.select(COLUMNS))
            name = f"data/{split}-{index:05d}-of-{len(own):05d}.parquet"
            digests[name] = shards.write((variant.family, group, split), frames[-1], folder / name)
        splits[split] = pl.concat(frames)
    seeds = (config.seed, sample_seed(variant, config))
    stats, contamination = built.cleaned.stats, built.contamination
    card = render_card(variant, splits, stats, *seeds, config.test_fraction, contamination)
    (folder / "README.md").write_text(card)
    counts = {name: frame.height for name, frame in splits.items()}
    by_source = instructions(config.data, variant.sources)
    one = len(set(by_source.values())) == 1
    info = {
        "variant": variant.name,
        "family": variant.family,
        "set": variant.set.key,
        "sources": list(variant.sources),
        "rows": counts,
        "seed": config.seed,
        **({} if variant.set.seed is None else {"sample_seed": variant.set.seed}),
        "test_fraction": config.test_fraction,
        "instruction": next(iter(by_source.values())) if one else by_source,
        "meddata_version": __version__,
        "sha256": dict(sorted(digests.items())),
    }
    (folder / "build_info.json").write_text(json.dumps(info, indent=2) + "\n")
    return counts


@dataclass(frozen=True)
class Built:
    """What every variant's card reports besides its own rows."""

    cleaned: Cleaned
    """The kept rows, the quarantine and the accounting."""
    contamination: dict[str, object] | None
    """The benchmark check's report (contamination.json), if one ran."""


def write_clean(built: Built, config: BuildConfig) -> None:
    with staged_dir(config.clean_dir.parent) as staging:
        built.cleaned.rows.write_parquet(staging / "rows.parquet")
        built.cleaned.quarantine.write_parquet(staging / "quarantine.parquet")
        stats = {"sources": built.cleaned.stats_json(), "cleaning": asdict(config.cleaning)}
        (staging / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
        if built.contamination is not None:
            text = json.dumps(built.contamination, indent=2, ensure_ascii=False) + "\n"
            (staging / "contamination.json").write_text(text)
        swap_in(staging, config.clean_dir)


def build(
    variants: list[Variant], config: BuildConfig, step: Step = lambda _: None
) -> list[VariantResult]:
    """Build `variants`; nothing in `out_dir` changes until every variant is complete."""
    benchmarks = load_benchmarks(config.eval_dir) if config.eval_dir is not None else []
    index = QuestionIndex()
    cleaned = read_and_clean(config, step, index)
    cleaned = replace(cleaned, rows=prepare_rows(cleaned, config))
    step("checking benchmark contamination")
    built = Built(cleaned, None)
    if config.eval_dir is not None:
        similarity, keep = config.cleaning.question_similarity, config.keep_contaminated
        built = Built(*screen(cleaned, benchmarks, similarity, keep, index))
    step("writing clean rows and quarantine")
    write_clean(built, config)
    step("rendering chat formats")
    rendered = render_all(built.cleaned.rows, variants)
    groups = {g: group_rows(rendered, g) for v in variants for g in groups_of(v, config)}
    shards = Shards()
    results = []
    with staged_dir(config.out_dir) as staging:
        for variant in variants:
            step(f"writing {variant.name}")
            folder = staging / variant.name
            counts = write_variant(variant, groups, built, config, folder, shards)
            results.append(VariantResult(variant, config.out_dir / variant.name, counts))
        for result in results:
            swap_in(staging / result.variant.name, result.path)
    return results
