from __future__ import annotations

from pathlib import Path

import pytest

from meddata.config import DEFAULT_CONFIG, load_config
from meddata.variants import expand, select

VARIANTS = expand(load_config())
UPSTREAM = (
    {f"medical_{f}_instruct_dataset" for f in ("mistral", "llama", "gemma")}
    | {f"medical_{f}_instruct_dataset_short" for f in ("mistral", "llama", "gemma")}
    | {f"{f}_medquad_instruct_dataset" for f in ("mistral", "llama", "gemma")}
    | {f"{f}_medical_meadow_wikidoc_instruct_dataset" for f in ("mistral", "llama", "gemma")}
)
WIKIDOC = ("medical_meadow_wikidoc", "medical_meadow_wikidoc_patient_information")


def test_upstream_names_plus_llama3_extras() -> None:
    assert len(UPSTREAM) == 12
    assert set(VARIANTS) >= UPSTREAM
    assert {v.family for n, v in VARIANTS.items() if n not in UPSTREAM} == {"llama3"}
    assert len(VARIANTS) == 16


def test_family_by_family_in_the_configs_order() -> None:
    assert [v.family for v in VARIANTS.values()] == [
        f for f in ("mistral", "llama", "llama3", "gemma") for _ in range(4)
    ]
    assert [v.set.key for v in list(VARIANTS.values())[:4]] == [
        "combined",
        "short",
        "medquad",
        "wikidoc",
    ]


def test_sources_of_one_corpus_form_one_shard() -> None:
    combined = VARIANTS["medical_llama_instruct_dataset"]
    assert [[s.name for s in corpus] for corpus in combined.corpora] == [list(WIKIDOC), ["medquad"]]
    assert combined.sources == (*WIKIDOC, "medquad")
    assert VARIANTS["gemma_medquad_instruct_dataset"].format.model == "google/gemma-1.1-7b-it"
    assert VARIANTS["medical_gemma_instruct_dataset_short"].set.sample == 1000


def test_a_set_built_in_some_families_only(tmp_path: Path) -> None:
    default = DEFAULT_CONFIG.read_text()
    mine = tmp_path / "mine.yaml"
    mine.write_text(
        default.replace("sources: [medquad]", "sources: [medquad]\n    families: [gemma]")
    )
    names = [n for n in expand(load_config(mine)) if "medquad_instruct" in n]
    assert names == ["gemma_medquad_instruct_dataset"]


def test_select_suggests_the_closest_name() -> None:
    assert select(VARIANTS, None) == list(VARIANTS.values())
    with pytest.raises(ValueError, match="did you mean 'medical_gemma_instruct_dataset'"):
        select(VARIANTS, ["medical_gema_instruct_dataset"])
