"""The build on the embedded real data: layout, loadability, sizes, splits, atomicity."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from meddata import build as build_module
from meddata.build import COLUMNS, BuildConfig, build, prepare_rows, read_and_clean, stage_count
from meddata.clean import QUALITY_RULES, CleanConfig
from meddata.config import load_config
from meddata.formats import render
from meddata.variants import expand, select
from testsupport.schemas import validate_variant

VARIANTS = expand(load_config())


def read_split(folder: Path, split: str) -> pl.DataFrame:
    return pl.concat(pl.read_parquet(p) for p in sorted((folder / "data").glob(f"{split}-*")))


def test_every_variant_has_the_hub_layout(real_build: Path) -> None:
    for name in VARIANTS:
        folder = real_build / "processed" / name
        assert (folder / "README.md").read_text().startswith("---\n")
        for split in ("train", "test"):
            assert tuple(read_split(folder, split).columns) == COLUMNS
        info = json.loads((folder / "build_info.json").read_text())
        assert info["rows"]["train"] == read_split(folder, "train").height


def test_load_dataset_reads_a_variant(real_build: Path) -> None:
    datasets = pytest.importorskip("datasets")
    folder = real_build / "processed" / "medical_mistral_instruct_dataset_short"
    loaded = datasets.load_dataset(str(folder))
    assert set(loaded) == {"train", "test"}
    assert loaded["train"].num_rows + loaded["test"].num_rows == 2000
    assert loaded["train"][0]["messages"][0]["role"] == "system"


def test_short_set_has_1000_rows_per_corpus(real_build: Path) -> None:
    folder = real_build / "processed" / "medical_gemma_instruct_dataset_short"
    rows = pl.concat([read_split(folder, s) for s in ("train", "test")])
    corpus = (
        pl.when(pl.col("source") == "medquad").then(pl.lit("medquad")).otherwise(pl.lit("wikidoc"))
    )
    assert rows.group_by(corpus.alias("corpus")).len().sort("corpus")["len"].to_list() == [
        1000,
        1000,
    ]


def test_variants_of_one_set_hold_the_same_rows_in_every_family(real_build: Path) -> None:
    ids = {
        family: read_split(
            real_build / "processed" / f"medical_{family}_instruct_dataset_short", "train"
        )["id"]
        for family in ("mistral", "llama", "gemma", "llama3")
    }
    assert all(s.equals(ids["mistral"]) for s in ids.values())


def test_combined_set_is_the_single_corpus_shards(real_build: Path) -> None:
    processed = real_build / "processed"
    for split in ("train", "test"):
        shards = sorted((processed / "medical_llama_instruct_dataset" / "data").glob(f"{split}-*"))
        assert [p.name for p in shards] == [
            f"{split}-00000-of-00002.parquet",
            f"{split}-00001-of-00002.parquet",
        ]
        corpora = [
            processed / name / "data" / f"{split}-00000-of-00001.parquet"
            for name in (
                "llama_medical_meadow_wikidoc_instruct_dataset",
                "llama_medquad_instruct_dataset",
            )
        ]
        assert [p.read_bytes() for p in shards] == [p.read_bytes() for p in corpora]


def test_build_info_lists_each_shard_hash(real_build: Path) -> None:
    folder = real_build / "processed" / "medical_gemma_instruct_dataset_short"
    info = json.loads((folder / "build_info.json").read_text())
    assert info["sha256"] == {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((folder / "data").iterdir())
    }
    assert len(info["sha256"]) == 4


def test_prompt_is_the_rendered_messages(real_build: Path) -> None:
    for name in ("medical_llama_instruct_dataset_short", "gemma_medquad_instruct_dataset"):
        variant = VARIANTS[name]
        rows = read_split(real_build / "processed" / name, "test").head(50)
        for messages, prompt in zip(
            rows["messages"].to_list(), rows["prompt"].to_list(), strict=True
        ):
            assert render(variant.family, messages) == prompt


def test_no_question_in_both_splits_and_ids_unique(real_build: Path) -> None:
    folder = real_build / "processed" / "medical_mistral_instruct_dataset"
    train, test = read_split(folder, "train"), read_split(folder, "test")
    assert not set(train["input"].str.to_lowercase()) & set(test["input"].str.to_lowercase())
    both = pl.concat([train, test])
    assert both["id"].n_unique() == both.height
    assert 0.08 < test.height / both.height < 0.12


def test_accounting_matches_the_files(real_build: Path) -> None:
    stats = json.loads((real_build / "clean" / "stats.json").read_text())["sources"]
    quarantine = pl.read_parquet(real_build / "clean" / "quarantine.parquet")
    rows = pl.read_parquet(real_build / "clean" / "rows.parquet")
    assert stats["medquad"]["rows_in"] == 47_457
    assert stats["medquad"]["dropped"]["missing_answer"] > 31_000
    for source, s in stats.items():
        assert s["rows_in"] == sum(s["dropped"].values()) + s["rows_out"]
        assert quarantine.filter(pl.col("source") == source).height == sum(s["dropped"].values())
        assert rows.filter(pl.col("source") == source).height == s["rows_out"]
    combined = real_build / "processed" / "medical_llama_instruct_dataset"
    built = sum(read_split(combined, s).height for s in ("train", "test"))
    assert built == sum(s["rows_out"] for s in stats.values())


def test_rebuild_is_byte_identical(real_build: Path, tmp_path: Path, raw_dir: Path) -> None:
    config = BuildConfig(
        raw_dir=raw_dir,
        out_dir=tmp_path / "p",
        clean_dir=tmp_path / "c",
        eval_dir=raw_dir.parent / "eval",
    )
    name = "llama_medical_meadow_wikidoc_instruct_dataset"
    stages: list[str] = []
    build(select(VARIANTS, [name]), config, stages.append)
    assert len(stages) == stage_count(select(VARIANTS, [name]), config)
    for split in ("train", "test"):
        path = Path("data") / f"{split}-00000-of-00001.parquet"
        assert (tmp_path / "p" / name / path).read_bytes() == (
            real_build / "processed" / name / path
        ).read_bytes()


def test_interrupted_build_keeps_the_previous_output(
    tmp_path: Path, raw_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = BuildConfig(
        raw_dir=raw_dir, out_dir=tmp_path / "p", clean_dir=tmp_path / "c", eval_dir=None
    )
    names = ["gemma_medquad_instruct_dataset", "llama_medquad_instruct_dataset"]
    build(select(VARIANTS, names), config)
    before = {p: p.read_bytes() for p in (tmp_path / "p").rglob("*") if p.is_file()}

    real_write = build_module.write_variant
    calls = []

    def write_then_die(*args: object, **kwargs: object) -> dict[str, int]:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_write(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(build_module, "write_variant", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        build(select(VARIANTS, names), BuildConfig(**{**config.__dict__, "seed": 7}))
    after = {p: p.read_bytes() for p in (tmp_path / "p").rglob("*") if p.is_file()}
    assert after == before


SAMPLED = """\
sources:
  - {name: qa, reader: csv, path: qa.csv, columns: {question: q, answer: a}, license: mit,
     citation: Me., url: https://example.org}
families: {chat: {format: llama3}}
variants:
  - {name: "{family}_all", sources: [qa]}
  - {name: "{family}_seeded", sources: [qa], sample: 5, seed: 7}
  - {name: "{family}_default_seed", sources: [qa], sample: 5}
"""


def test_a_variant_samples_with_its_own_seed(tmp_path: Path) -> None:
    rows = [f"What is item {i}?,Item {i} is a thing worth knowing." for i in range(40)]
    (tmp_path / "qa.csv").write_text("\n".join(["q,a", *rows]) + "\n")
    (tmp_path / "c.yaml").write_text(SAMPLED)
    config = BuildConfig(
        data=load_config(tmp_path / "c.yaml"),
        raw_dir=tmp_path,
        out_dir=tmp_path / "p",
        clean_dir=tmp_path / "c",
    )

    build(list(expand(config.data).values()), config)

    def ids(name: str) -> list[str]:
        both = pl.concat([read_split(tmp_path / "p" / name, s) for s in ("train", "test")])
        return sorted(both["id"])

    def info(name: str) -> dict[str, object]:
        return json.loads((tmp_path / "p" / name / "build_info.json").read_text())

    assert len(ids("chat_all")) == 40
    assert len(ids("chat_seeded")) == len(ids("chat_default_seed")) == 5
    assert ids("chat_seeded") != ids("chat_default_seed")
    assert info("chat_seeded")["sample_seed"] == 7 and info("chat_seeded")["seed"] == 42
    assert "sample_seed" not in info("chat_default_seed")
    card = (tmp_path / "p" / "chat_seeded" / "README.md").read_text()
    assert "A seeded sample (seed 7) of 5 rows per corpus." in card
    assert "Rows of qa, as single-turn instructions for **meta-llama/Meta-Llama-3" in card


def test_written_variants_match_the_schemas(real_build: Path) -> None:
    """Every column of every variant as schemas/variant_row.schema.json says medtrain and
    medeval read it, and build_info.json as schemas/build_info.schema.json says."""
    for name in VARIANTS:
        validate_variant(real_build / "processed" / name, limit=50)


SHIPPED_DROPS = {
    "medical_meadow_wikidoc": {
        "not_medical_qa": 64,
        "markup_in_answer": 37,
        "near_duplicate_question": 3,
    },
    "medical_meadow_wikidoc_patient_information": {
        "not_medical_qa": 134,
        "markup_in_answer": 27,
        "near_duplicate_question": 90,
    },
    "medquad": {"not_medical_qa": 4, "near_duplicate_question": 2501},
}
"""What the content rules remove from the shipped data (packages/meddata/README.md)."""


def test_content_rules_remove_what_the_readme_says(real_build: Path) -> None:
    stats = json.loads((real_build / "clean" / "stats.json").read_text())
    for source, expected in SHIPPED_DROPS.items():
        dropped = stats["sources"][source]["dropped"]
        rules = ("not_medical_qa", "markup_in_answer", "near_duplicate_question")
        assert {r: n for r, n in dropped.items() if r in rules} == expected
        assert "benchmark_overlap" not in dropped
    assert stats["cleaning"]["skip_rules"] == []


def test_the_benchmark_check_is_reported(real_build: Path) -> None:
    report = json.loads((real_build / "clean" / "contamination.json").read_text())
    assert report["action"] == "removed"
    assert (
        report["training_rows"]
        == pl.read_parquet(real_build / "clean" / "rows.parquet")
        .filter(pl.col("split") == "train")
        .height
    )
    checked = {name: b["items_checked"] for name, b in report["benchmarks"].items()}
    assert checked == {"medmcqa": 2816, "medqa": 1273, "mmlu_medical": 1089, "pubmedqa": 1000}
    assert all(b["items_hit"] == 0 for b in report["benchmarks"].values())
    card = (real_build / "processed" / "medical_llama_instruct_dataset" / "README.md").read_text()
    assert "## Benchmark contamination" in card and "| `medqa` | 1,273 | 0 | 0 |" in card


def planted_eval(real_build: Path, folder: Path) -> list[str]:
    """A benchmark holding one training row's question and 13 words of another's answer;
    returns the two rows' ids."""
    rows = pl.read_parquet(real_build / "clean" / "rows.parquet").filter(
        (pl.col("split") == "train") & (pl.col("source") == "medquad")
    )
    asked, quoted = rows.row(0, named=True), rows.row(1, named=True)
    words = quoted["output"].split()[5:20]
    item = {"question": asked["input"], "options": {"A": " ".join(words)}}
    (folder / "planted").mkdir(parents=True)
    (folder / "planted" / "test.jsonl").write_text(json.dumps(item) + "\n")
    return [asked["id"], quoted["id"]]


@pytest.mark.slow
@pytest.mark.parametrize("keep", [False, True])
def test_contaminated_training_rows_are_removed_unless_kept(
    real_build: Path, tmp_path: Path, raw_dir: Path, keep: bool
) -> None:
    ids = planted_eval(real_build, tmp_path / "eval")
    config = BuildConfig(
        raw_dir=raw_dir,
        out_dir=tmp_path / "p",
        clean_dir=tmp_path / "c",
        eval_dir=tmp_path / "eval",
        keep_contaminated=keep,
    )
    name = "llama_medquad_instruct_dataset"
    build(select(VARIANTS, [name]), config)
    report = json.loads((tmp_path / "c" / "contamination.json").read_text())["benchmarks"]
    hits = report["planted"]["hits"]
    assert sorted(h["row"] for h in hits) == sorted(ids)
    assert {h["match"] for h in hits} == {"question", "13-gram"}
    train = read_split(tmp_path / "p" / name, "train")
    assert set(ids) <= set(train["id"]) if keep else not set(ids) & set(train["id"])
    quarantine = pl.read_parquet(tmp_path / "c" / "quarantine.parquet")
    removed = quarantine.filter(pl.col("reason") == "benchmark_overlap")
    assert removed.height == (0 if keep else 2)
    stats = json.loads((tmp_path / "c" / "stats.json").read_text())["sources"]["medquad"]
    assert stats["dropped"].get("benchmark_overlap", 0) == removed.height
    assert stats["rows_in"] == sum(stats["dropped"].values()) + stats["rows_out"]
    card = (tmp_path / "p" / name / "README.md").read_text()
    assert "| `planted` | 1 | 1 | 2 |" in card
    assert ("kept in the data" if keep else "removed (quarantine reason") in card


def test_the_content_rules_leave_every_other_row_in_its_split(
    real_build: Path, raw_dir: Path
) -> None:
    kept = pl.read_parquet(real_build / "clean" / "rows.parquet")
    config = BuildConfig(raw_dir=raw_dir, cleaning=CleanConfig(skip_rules=QUALITY_RULES))
    without = prepare_rows(read_and_clean(config, lambda _: None), config)
    key = ["source", "source_id", "input"]
    both = kept.select(*key, "split").join(without.select(*key, "split"), on=key, how="inner")
    assert both.height == kept.height
    assert (both["split"] == both["split_right"]).all()
