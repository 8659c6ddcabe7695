from __future__ import annotations

from pathlib import Path

import yaml

from meddata.card import size_category


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text()
    assert text.startswith("---\n")
    loaded = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(loaded, dict)
    return loaded


def test_card_metadata_per_variant(real_build: Path) -> None:
    processed = real_build / "processed"
    medquad = front_matter(processed / "mistral_medquad_instruct_dataset" / "README.md")
    wikidoc = front_matter(
        processed / "mistral_medical_meadow_wikidoc_instruct_dataset" / "README.md"
    )
    combined = front_matter(processed / "medical_mistral_instruct_dataset" / "README.md")
    assert medquad["license"] == "cc-by-4.0"
    assert wikidoc["license"] == "cc-by-sa-3.0"
    assert combined["license"] == ["cc-by-4.0", "cc-by-sa-3.0"]
    assert combined["size_categories"] == ["10K<n<100K"]
    assert medquad["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*"},
                {"split": "test", "path": "data/test-*"},
            ],
        }
    ]


def test_card_body_has_what_a_reader_needs(real_build: Path) -> None:
    body = (
        real_build / "processed" / "medical_gemma_instruct_dataset_short" / "README.md"
    ).read_text()
    for needed in (
        "Not for medical use",
        "Ben Abacha",
        "MedAlpaca",
        "<start_of_turn>model\n",
        "duplicate_exact",
    ):
        assert needed in body


def test_card_says_which_sources_fill_the_metadata_columns(real_build: Path) -> None:
    """A config's `columns.metadata`, not a fixed sentence about MedQuAD."""
    processed = real_build / "processed"
    medquad = (processed / "mistral_medquad_instruct_dataset" / "README.md").read_text()
    wikidoc = processed / "mistral_medical_meadow_wikidoc_instruct_dataset" / "README.md"
    assert "(metadata: `medquad` fills `collection`, `focus`, `qtype`, `url`; null" in medquad
    assert "`url` (metadata, all null here)." in wikidoc.read_text()


def test_size_category_bounds() -> None:
    assert [size_category(n) for n in (999, 1000, 9_999, 10_000, 100_000)] == [
        "n<1K",
        "1K<n<10K",
        "1K<n<10K",
        "10K<n<100K",
        "100K<n<1M",
    ]
