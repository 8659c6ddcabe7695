"""Recipes validate strictly: unknown keys name themselves and the likely intended key."""

from __future__ import annotations

import pytest

from medtrain.config import RecipeConfig, apply_overrides, from_dict
from medtrain.errors import ConfigError
from medtrain.recipes import load_raw, load_recipe, recipe_names, recipe_path

GPU_RECIPES = {
    "mistral": "unsloth/mistral-7b-instruct-v0.2-bnb-4bit",
    "llama": "unsloth/llama-2-7b-chat-bnb-4bit",
    "gemma": "unsloth/gemma-1.1-7b-it-bnb-4bit",
    "llama3": "unsloth/llama-3-8b-Instruct-bnb-4bit",
}
CURRENT_RECIPES = {  # recipe: (base, the variant whose `messages` it renders with its template)
    "llama3.1": ("unsloth/Meta-Llama-3.1-8B-Instruct-bnb-4bit", "llama3"),
    "qwen2.5": ("unsloth/Qwen2.5-7B-Instruct-bnb-4bit", "mistral"),
    "gemma2": ("unsloth/gemma-2-9b-it-bnb-4bit", "gemma"),
    "mistral-v0.3": ("unsloth/mistral-7b-instruct-v0.3-bnb-4bit", "mistral"),
}
CPU_RECIPES = {"smollm2-cpu", "smollm2-cpu-qlora"}
TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def test_every_recipe_loads_and_is_headed_by_the_command_that_runs_it() -> None:
    assert set(recipe_names()) == {*GPU_RECIPES, *CURRENT_RECIPES, *CPU_RECIPES}
    for name in recipe_names():
        recipe = load_recipe(name)
        assert recipe.name == name
        first = recipe_path(name).read_text().splitlines()[0]
        command = first.removeprefix("# ").split("  ")[0]
        assert command == f"medtrain train {name}", first
        assert first.endswith(f"(or: nox -s train -- {name})"), first
        assert recipe_path(command.split()[-1]) == recipe_path(name)


def seven_b_settings(name: str) -> None:
    """The upstream notebooks' QLoRA settings, shared by every 7B recipe."""
    r = load_recipe(name)
    assert r.model.load_in_4bit and r.model.requires_cuda and r.model.dtype == "auto"
    assert r.model.max_seq_length == 2048
    assert (r.lora.r, r.lora.alpha, r.lora.dropout, r.lora.target_modules) == (16, 16, 0.0, TARGETS)
    t = r.training
    batch = (t.per_device_train_batch_size, t.gradient_accumulation_steps, t.warmup_steps)
    assert batch == (2, 4, 5)
    assert (t.num_train_epochs, t.max_steps, t.learning_rate, t.optim, t.weight_decay) == (
        1.0, -1, 2e-4, "adamw_8bit", 0.01,
    )  # fmt: skip
    assert (t.lr_scheduler_type, t.seed, t.gradient_checkpointing) == ("linear", 42, True)
    assert r.data.text_field == "messages" and not r.data.packing


@pytest.mark.parametrize(("name", "base"), GPU_RECIPES.items())
def test_gpu_recipes_keep_the_upstream_settings(name: str, base: str) -> None:
    seven_b_settings(name)
    r = load_recipe(name)
    assert r.model.base == base
    assert r.data.dataset == f"data/processed/medical_{name}_instruct_dataset_short"
    assert r.model.chat_template == name


@pytest.mark.parametrize(("name", "spec"), CURRENT_RECIPES.items())
def test_current_model_recipes_use_their_own_template(name: str, spec: tuple[str, str]) -> None:
    seven_b_settings(name)
    r = load_recipe(name)
    base, variant = spec
    assert (r.model.base, r.model.chat_template) == (base, name)
    assert r.data.dataset == f"data/processed/medical_{variant}_instruct_dataset_short"


def test_cpu_qlora_recipe_has_the_7b_settings_on_smollm2() -> None:
    r, seven_b = load_recipe("smollm2-cpu-qlora"), load_recipe("mistral")
    assert r.model.base == load_recipe("smollm2-cpu").model.base
    assert (r.model.load_in_4bit, r.model.requires_cuda, r.training.backend) == (True, False, "hf")
    assert r.lora == seven_b.lora
    cpu_sized = {"max_steps", "save_steps", "backend"}
    for key, value in vars(r.training).items():
        if key not in cpu_sized:
            assert value == getattr(seven_b.training, key), key
    assert r.training.max_steps > 0


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
