"""medtrain's fixtures: family tokenizers with the official templates, a finished tiny run."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testsupport.recipes import STEPS, write_recipe
from testsupport.tokenizers import family_tokenizer as tokenizer_of


@pytest.fixture(scope="session")
def family_tokenizer() -> Callable[[str], Any]:
    """family -> tokenizer with medtrain's shipped official template set (real vocabularies
    where they ship offline)."""
    from medtrain.chat import set_template

    built: dict[str, Any] = {}

    def get(family: str) -> Any:
        if family not in built:
            tok = tokenizer_of(family, Path(os.environ["MEDTRAIN_CACHE"]) / "vocab")
            set_template(tok, family)
            built[family] = tok
        return built[family]

    return get


@pytest.fixture(scope="session")
def recipe_file(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, variant: Path) -> Path:
    folder = tmp_path_factory.mktemp("recipe")
    return write_recipe(folder / "tiny.yaml", tiny_model, variant, folder / "runs", max_steps=STEPS)


@pytest.fixture(scope="session")
def finished_run(recipe_file: Path) -> Path:
    """A finished 6-step run of the tiny Mistral (shared by the trainer and export tests)."""
    from medtrain.recipes import load_recipe
    from medtrain.trainer import train

    return train(load_recipe(str(recipe_file)))
