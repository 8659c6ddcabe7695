"""Precision from the device: on every simulated GPU the arguments that reach transformers are
built and accepted by transformers itself (TrainingArguments, the bitsandbytes quantizer)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from medtrain import precision
from medtrain.errors import UserError
from medtrain.recipes import load_recipe, recipe_names
from medtrain.sft import training_arguments
from testsupport.precision import DEVICES, EXPECTED, simulated

GPUS = [name for name in DEVICES if name != "cpu"]
PRE_AMPERE = [name for name in GPUS if DEVICES[name].capability < (8, 0)]  # type: ignore[operator]


def test_bf16_on_a_t4_is_refused_by_transformers() -> None:
    """The failure this module prevents, reproduced: the old rule asked for bf16 on any CUDA."""
    from transformers import TrainingArguments

    with simulated("t4", emulated_bf16=False), pytest.raises(ValueError, match="support bf16/gpu"):
        TrainingArguments(output_dir="unused", bf16=True, report_to="none")


@pytest.mark.parametrize("device", list(DEVICES))
def test_auto_precision_follows_the_table(device: str) -> None:
    with simulated(device):
        chosen = precision.resolve("auto")
    got = (chosen.compute_dtype, chosen.bf16, chosen.fp16)
    assert (*got, chosen.quant_compute_dtype, chosen.lora_dtype) == EXPECTED[device]
    assert chosen.export_dtype == ("float16" if device in PRE_AMPERE else "bfloat16")


@pytest.mark.parametrize("emulated_bf16", [True, False], ids=["torch-emulation", "no-bf16"])
@pytest.mark.parametrize("device", list(DEVICES))
def test_every_recipe_builds_accepted_training_arguments(
    device: str, emulated_bf16: bool, tmp_path: Path
) -> None:
    _, bf16, fp16, _, _ = EXPECTED[device]
    for name in recipe_names():
        recipe = load_recipe(name)
        explicit = recipe.model.dtype != "auto"
        with simulated(device, emulated_bf16):
            args = training_arguments(recipe, tmp_path, distributed=False)
            assert args.device.type == ("cpu" if device == "cpu" else "cuda")
        if not explicit:
            assert (args.bf16, args.fp16) == (bf16, fp16), name
        assert args.mixed_precision == ("bf16" if args.bf16 else "fp16" if args.fp16 else "no")


@pytest.mark.parametrize("device", list(DEVICES))
def test_4bit_loading_arguments_are_accepted_by_the_bnb_quantizer(device: str) -> None:
    from transformers.quantizers import AutoHfQuantizer

    from medtrain.models import from_pretrained_kwargs

    compute, *_ = EXPECTED[device]
    recipe = load_recipe("mistral")
    with simulated(device):
        here = precision.current_device()
        kwargs = from_pretrained_kwargs(recipe.model, precision.resolve("auto", here), here)
        quantizer = AutoHfQuantizer.from_config(kwargs["quantization_config"])
        quantizer.validate_environment(device_map=kwargs["device_map"], dtype=kwargs["dtype"])
    config = kwargs["quantization_config"]
    assert kwargs["dtype"] == config.bnb_4bit_compute_dtype == getattr(torch, compute)
    assert (config.bnb_4bit_quant_type, config.bnb_4bit_use_double_quant) == ("nf4", True)
    assert kwargs["device_map"] == {"": "cpu" if device == "cpu" else 0}


@pytest.mark.parametrize("device", PRE_AMPERE)
def test_bfloat16_recipe_on_a_pre_ampere_gpu_stops_before_loading(device: str) -> None:
    from medtrain.backends import hf

    recipe = load_recipe("mistral", ["model.dtype=bfloat16", "model.base=/nonexistent/model"])
    with simulated(device), pytest.raises(UserError, match=r"bfloat16 needs compute capability"):
        hf.load(recipe)  # the dtype error comes first: the base path is never opened


def test_explicit_dtypes_win_where_the_device_runs_them(tmp_path: Path) -> None:
    with simulated("a100"):
        assert precision.resolve("float16").fp16
        assert not precision.resolve("float32").bf16
    with simulated("t4"):
        chosen = precision.resolve("float32")
        assert (chosen.bf16, chosen.fp16, chosen.export_dtype) == (False, False, "float16")
        args = training_arguments(load_recipe("mistral", ["model.dtype=float32"]), tmp_path, False)
        assert (args.bf16, args.fp16) == (False, False)
    with simulated("cpu"):
        assert precision.resolve("bfloat16").bf16
        with pytest.raises(UserError, match="float16 needs a CUDA GPU"):
            precision.resolve("float16")


@pytest.mark.parametrize("device", ["t4", "a100"])
def test_loaded_model_has_base_in_compute_dtype_and_lora_in_float32(
    device: str, tiny_model: Path
) -> None:
    from medtrain.backends import hf

    compute, *_ = EXPECTED[device]
    sets = [f"model.base={tiny_model}", "model.dtype=auto", "model.chat_template=mistral"]
    recipe = load_recipe("smollm2-cpu", sets)
    with simulated(device):
        model = hf.load(recipe).model
    trainable = {p.dtype for p in model.parameters() if p.requires_grad}
    frozen = {p.dtype for p in model.parameters() if not p.requires_grad}
    assert trainable == {torch.float32} and frozen == {getattr(torch, compute)}


@pytest.mark.parametrize(("device", "stored"), [("cpu", "bfloat16"), ("t4", "float16")])
def test_merged_16bit_export_is_stored_in_the_devices_16bit_dtype(
    device: str, stored: str, finished_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the precision decision sees the GPU here (peft would put the adapter on it)."""
    import json
    import shutil

    from medtrain import models
    from medtrain.export import export_merged

    spec = DEVICES[device]
    here = (
        precision.Device("cuda", spec.capability, spec.name)
        if spec.capability
        else precision.Device("cpu")
    )
    monkeypatch.setattr(precision, "current_device", lambda: here)
    monkeypatch.setattr(models, "current_device", lambda: here)
    out = export_merged(shutil.copytree(finished_run, tmp_path / finished_run.name))
    assert json.loads((out / "config.json").read_text())["dtype"] == stored
