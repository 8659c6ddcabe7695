"""`medtrain plan`: exact parameter counts, the activation formula against what autograd keeps,
the resolved run as JSON, and the refusal that names the setting to change."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from medtrain.cli import app
from medtrain.config import LoraConfig
from medtrain.errors import UserError
from medtrain.plan import Device, build_plan, check_fits, device_named
from medtrain.plan_memory import Setup, layer_bytes
from medtrain.plan_shapes import Shape, arch_key, count_params, shipped_archs
from medtrain.recipes import load_recipe, recipe_names
from testsupport.recipes import STEPS

ALL = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def arch_config(key: str, **change: Any) -> dict[str, Any]:
    cfg = json.loads((resources.files("medtrain") / "archs" / f"{key}.json").read_text())
    return {**cfg, **change}


def peft_counts(cfg: dict[str, Any], lora: LoraConfig) -> tuple[int, int]:
    """(base parameters, trainable parameters) as transformers + peft count them."""
    from peft import LoraConfig as PeftLora
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.for_model(**cfg))
    base = sum(p.numel() for p in model.parameters())
    peft = PeftLora(
        r=lora.r, lora_alpha=lora.alpha, target_modules=lora.target_modules, use_dora=lora.use_dora
    )
    wrapped = get_peft_model(model, peft)
    return base, sum(p.numel() for p in wrapped.parameters() if p.requires_grad)


@pytest.mark.parametrize("key", shipped_archs())
def test_counts_equal_peft_on_every_shipped_architecture(key: str) -> None:
    cfg = arch_config(key)
    for lora in (LoraConfig(), LoraConfig(r=8, target_modules=["q_proj", "v_proj"], use_dora=True)):
        counts = count_params(Shape.from_config(cfg), lora)
        assert (counts.total, counts.lora) == peft_counts(cfg, lora)


def test_counts_equal_peft_on_the_tiny_test_model(tiny_model: Path) -> None:
    cfg = json.loads((tiny_model / "config.json").read_text())
    lora = LoraConfig(r=4, target_modules=ALL)
    counts = count_params(Shape.from_config(cfg), lora)
    assert (counts.total, counts.lora) == peft_counts(cfg, lora)


def test_every_recipe_base_has_a_shipped_shape() -> None:
    for name in recipe_names():
        assert arch_key(load_recipe(name).model.base) in shipped_archs(), name


def saved_bytes_per_layer(cfg: dict[str, Any], autocast: bool) -> float:
    """Bytes autograd keeps per token for one more decoder layer (2 layers minus 1)."""
    from peft import LoraConfig as PeftLora
    from peft import get_peft_model
    from transformers import AutoConfig, AutoModelForCausalLM

    kept = []
    for layers in (1, 2):
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(
            AutoConfig.for_model(**{**cfg, "num_hidden_layers": layers}), dtype=torch.float32
        )
        model = get_peft_model(model, PeftLora(r=16, target_modules=ALL))
        params = {p.untyped_storage().data_ptr() for p in model.parameters()}
        storages: dict[int, int] = {}

        def pack(t: torch.Tensor, storages: dict[int, int] = storages) -> torch.Tensor:
            storages[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        ids = torch.randint(0, cfg["vocab_size"], (1, 64))
        with (
            torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t),
            torch.autocast("cpu", torch.bfloat16, enabled=autocast),
        ):
            model(input_ids=ids, labels=ids)
        # under autocast, bf16 copies of the fp32 test weights are kept too; a real 16-bit or
        # 4-bit base has no such copies, so only activation-sized tensors are counted
        kept.append(sum(n for ptr, n in storages.items() if ptr not in params))
    return (kept[1] - kept[0]) / 64


@pytest.mark.parametrize("autocast", [False, True], ids=["fp32", "bf16-autocast"])
def test_layer_activation_formula_matches_what_autograd_keeps(autocast: bool) -> None:
    cfg = arch_config("smollm2-135m-instruct", vocab_size=512)
    shape = Shape.from_config(cfg)
    setup = Setup(1, 64, 2 if autocast else 4, 4, False, False, "hf", "adamw_torch", False,
                  tuple(ALL), 16, False)  # fmt: skip
    measured = saved_bytes_per_layer(cfg, autocast)
    weight_copies = 0.0
    if autocast:  # the fp32 test weights' bf16 copies: 2 bytes per base and LoRA weight, per token
        counts = count_params(shape, LoraConfig(r=16, target_modules=ALL))
        weight_copies = 2 * (counts.quantizable + counts.lora) / shape.layers / 64
    assert layer_bytes(shape, setup) == pytest.approx(measured - weight_copies, rel=0.02)


def test_plan_json_resolves_the_tiny_run(recipe_file: Path, variant: Path) -> None:
    got = CliRunner().invoke(app, ["plan", str(recipe_file), "--gpu", "cpu", "--json"])
    assert got.exit_code == 0, got.output
    plan = json.loads(got.output)
    for key in ("backend", "precision", "quantization", "trainable_params", "peak_memory_gb"):
        assert plan[key] is not None
    assert plan["fits"] is True
    assert (plan["backend"], plan["precision"], plan["quantization"]) == ("hf", "float32", "none")
    assert plan["rows_per_epoch"] + plan["dropped_overlong"] == 48
    assert plan["tokens_per_epoch"] > plan["trained_tokens_per_epoch"] > 0
    assert plan["optimizer_steps"] == STEPS  # the recipe's max_steps


def test_plan_precision_follows_the_gpu() -> None:
    for gpu, want in (("t4", "float16"), ("a10", "bfloat16"), ("h100", "bfloat16")):
        plan = build_plan(load_recipe("mistral", ["data.dataset=/absent"]), device_named(gpu))
        assert plan.precision == want
        assert plan.quantization == "nf4 + double quant"


def test_plan_refuses_a_dtype_the_gpu_cannot_run_as_training_does() -> None:
    """plan asks medtrain.precision, the rule training applies: bfloat16 on a T4 is refused
    before anything is estimated, and the same recipe plans on an A10."""
    recipe = load_recipe("mistral", ["data.dataset=/absent", "model.dtype=bfloat16"])
    with pytest.raises(UserError, match=r"model\.dtype=bfloat16 needs compute capability 8\.0"):
        build_plan(recipe, device_named("t4"))
    assert build_plan(recipe, device_named("a10")).precision == "bfloat16"


def test_a_run_that_cannot_fit_names_the_setting(recipe_file: Path) -> None:
    small = Device("small-gpu", 1.0e9, (8, 0))
    big_batch = load_recipe(str(recipe_file), ["training.per_device_train_batch_size=48"])
    plan = build_plan(big_batch, small)
    assert not plan.fits
    assert "training.per_device_train_batch_size=1" in plan.suggestions
    assert "training.gradient_accumulation_steps=48" in plan.suggestions
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("medtrain.plan.this_device", lambda: small)
        with pytest.raises(UserError, match=r"--set training\.per_device_train_batch_size=1"):
            check_fits(big_batch, force=False)
        check_fits(big_batch, force=True)  # --force starts it anyway


def test_train_runs_the_check_before_loading(recipe_file: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr("medtrain.plan.this_device", lambda: Device("small", 1.0e9, (8, 0)))
    monkeypatch.setattr("medtrain.trainer.load_backend", lambda r: pytest.fail("loaded weights"))
    got = CliRunner().invoke(
        app, ["train", str(recipe_file), "--set", "training.per_device_train_batch_size=48"]
    )
    assert isinstance(got.exception, UserError)
    assert "gradient_accumulation_steps=48" in str(got.exception)


def test_plan_cli_exits_1_and_names_the_fix_when_it_does_not_fit() -> None:
    args = ["plan", "gemma", "--gpu", "t4", "--json", "--set", "data.dataset=/absent"]
    got = CliRunner().invoke(app, args)
    assert got.exit_code == 1
    plan = json.loads(got.output)
    assert plan["fits"] is False and plan["precision"] == "float16"
    assert plan["suggestions"] == ["--set training.backend=unsloth"]  # fused loss: 256k vocab
    assert plan["peak_memory_gb"] > plan["usable_memory_gb"]
