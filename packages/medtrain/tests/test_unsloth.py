"""The unsloth backend (own environment: `nox -s tests_unsloth`); skipped without unsloth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testsupport.recipes import write_recipe
from testsupport.tiny import tiny_model_dir

pytest.importorskip(
    "unsloth", reason="unsloth is tested in its own environment (nox -s tests_unsloth)"
)

from medtrain.backends import pick_backend
from medtrain.recipes import load_recipe
from medtrain.trainer import train


def test_auto_picks_unsloth_where_it_imports() -> None:
    assert pick_backend("auto") == "unsloth"


@pytest.mark.parametrize("arch", ["llama", "mistral"])
def test_unsloth_trains_text_lora_on_the_cpu(arch: str, variant: Path, tmp_path: Path) -> None:
    model = tiny_model_dir(tmp_path / arch, arch)
    recipe = write_recipe(
        tmp_path / "r.yaml", model, variant, tmp_path / "runs", backend="unsloth", max_steps=3
    )
    run = train(load_recipe(str(recipe)))
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert stats["backend"] == "unsloth" and stats["global_step"] == 3
    assert stats["train_loss"] > 0
    assert (run / "adapter" / "adapter_model.safetensors").is_file()
