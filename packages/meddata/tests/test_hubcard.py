"""meddata.hubcard: a variant's card is checked offline, before any upload, naming each problem."""

from __future__ import annotations

import pytest

from meddata.hubcard import check_card

CARD = """---
license: [cc-by-4.0, cc-by-sa-3.0]
language: [en]
task_categories: [question-answering]
size_categories: [n<1K]
configs:
- config_name: default
  data_files:
  - {split: train, path: data/train-*}
  - {split: test, path: data/test-*}
---
# card
"""
FILES = {"README.md", "data/train-00000-of-00001.parquet", "data/test-00000-of-00001.parquet"}


def test_a_good_card_passes() -> None:
    assert check_card(CARD, FILES)["license"] == ["cc-by-4.0", "cc-by-sa-3.0"]


@pytest.mark.parametrize(
    ("card", "expected"),
    [
        (CARD.replace("cc-by-4.0", "cc-by-5.0"), "license cc-by-5.0"),
        (CARD.replace("language: [en]\n", ""), "lacks language"),
        (CARD.replace("n<1K", "small"), "size_categories small"),
        (CARD.replace("data/test-*", "data/valid-*"), "'data/valid-*' matches no file"),
        (CARD.replace("language: [en]", "language: [English]"), "language English"),
        (CARD.replace("license: [cc-by-4.0, cc-by-sa-3.0]", "license: other"), "license_name"),
        ("# no metadata\n", "lacks license"),
        ("---\nlicense: [mit\n---\n", "README.md: while parsing"),
        ("---\n- a list\n---\n", "README.md: repo card metadata block should be a dict"),
    ],
)
def test_bad_card_metadata_is_named(card: str, expected: str) -> None:
    with pytest.raises(ValueError, match=r"README\.md") as err:
        check_card(card, FILES)
    assert expected in str(err.value) and "\n" not in str(err.value)
