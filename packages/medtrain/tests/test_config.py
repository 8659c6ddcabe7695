"""Recipes validate strictly: unknown keys name themselves and the likely intended key."""

from __future__ import annotations

import pytest

from medtrain.config import RecipeConfig, apply_overrides, from_dict
from medtrain.errors import ConfigError
from medtrain.recipes import load_raw, load_recipe, recipe_names

GPU_RECIPES = {
    "mistral": "unsloth/mistral-7b-instruct-v0.2-bnb-4bit",
    "llama": "unsloth/llama-2-7b-chat-bnb-4bit",
    "gemma": "unsloth/gemma-1.1-7b-it-bnb-4bit",
    "llama3": "unsloth/llama-3-8b-Instruct-bnb-4bit",
}


def test_every_recipe_loads_and_is_headed_by_its_command() -> None:
    assert set(recipe_names()) == {*GPU_RECIPES, "smollm2-cpu"}
    for name in recipe_names():
        recipe = load_recipe(name)
        assert recipe.name == name
        from medtrain.recipes import recipe_path

        assert recipe_path(name).read_text().startswith(f"# medtrain train {name}")


@pytest.mark.parametrize(("name", "base"), GPU_RECIPES.items())
def test_gpu_recipes_keep_the_upstream_settings(name: str, base: str) -> None:
    r = load_recipe(name)
    assert r.model.base == base
    assert r.model.load_in_4bit and r.model.requires_cuda
    assert r.model.max_seq_length == 2048
    assert (r.lora.r, r.lora.alpha, r.lora.dropout) == (16, 16, 0.0)
    assert r.lora.target_modules == [
        "q_proj",
        "k_proj",
        "v_proj",
        "o_proj",
        "gate_proj",
        "up_proj",
        "down_proj",
    ]
    t = r.training
    assert (t.per_device_train_batch_size, t.gradient_accumulation_steps, t.warmup_steps) == (
        2,
        4,
        5,
    )
    assert (t.num_train_epochs, t.learning_rate, t.optim, t.weight_decay) == (
        1.0,
        2e-4,
        "adamw_8bit",
        0.01,
    )
    assert (t.lr_scheduler_type, t.seed) == ("linear", 42)
    assert r.data.dataset == f"data/processed/medical_{name}_instruct_dataset_short"
    assert r.model.chat_template == name


def test_cpu_recipe_is_fp32_lora_on_smollm2() -> None:
    r = load_recipe("smollm2-cpu")
    assert r.model.base == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert r.model.gguf_fallback and r.model.dtype == "float32"
    assert not r.model.load_in_4bit and not r.model.requires_cuda


def test_misspelled_key_is_named_with_a_suggestion() -> None:
    data = load_raw("mistral")
    data["training"]["max_step"] = 3
    with pytest.raises(
        ConfigError, match=r"unknown key 'training.max_step'.*did you mean 'max_steps'"
    ):
        from_dict(RecipeConfig, data)


def test_misspelled_override_is_named_with_a_suggestion() -> None:
    with pytest.raises(
        ConfigError, match=r"mistral.yaml: --set: unknown key 'lora.alhpa'.*'alpha'"
    ):
        load_recipe("mistral", ["lora.alhpa=8"])
    with pytest.raises(ConfigError, match=r"unknown key 'trainig'.*'training'"):
        load_recipe("mistral", ["trainig.seed=1"])


def test_overrides_are_parsed_and_type_checked() -> None:
    r = load_recipe("mistral", ["training.max_steps=20", "lora.use_dora=true", "data.packing=yes"])
    assert (r.training.max_steps, r.lora.use_dora, r.data.packing) == (20, True, True)
    with pytest.raises(ConfigError, match=r"'training.max_steps' must be an integer"):
        load_recipe("mistral", ["training.max_steps=many"])
    with pytest.raises(ConfigError, match=r"'training.backend' is 'torch'; expected one of"):
        load_recipe("mistral", ["training.backend=torch"])
    with pytest.raises(ConfigError, match=r"not of the form"):
        apply_overrides({}, ["training.seed"])


def test_missing_required_key() -> None:
    with pytest.raises(ConfigError, match=r"missing required key 'data'"):
        from_dict(RecipeConfig, {"name": "x", "model": {"base": "m"}})
