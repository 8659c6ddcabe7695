"""medtrain's fixtures: family tokenizers with the official templates, a finished tiny run."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from testsupport.recipes import STEPS, write_recipe
from testsupport.tokenizers import gemma_standin_tokenizer, mistral_tokenizer, vocab_tokenizer


@pytest.fixture(scope="session")
def family_tokenizer() -> Callable[[str], Any]:
    """family -> tokenizer with the official template set (real vocabularies where shipped)."""
    from medtrain.chat import set_template

    built: dict[str, Any] = {}

    def get(family: str) -> Any:
        if family not in built:
            if family == "mistral":
                tok = mistral_tokenizer()
            elif family == "gemma":
                tok = gemma_standin_tokenizer()
            else:
                tok = vocab_tokenizer(family, Path(os.environ["MEDTRAIN_CACHE"]) / "vocab")
                if family == "llama3":  # the vocab GGUF predates the eos change to <|eot_id|>
                    tok.eos_token = "<|eot_id|>"
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
