"""Load a model (Hub id, local folder or .gguf file) with an optional LoRA adapter; a run's
base model with its adapter; `disable_adapter()` gives the base model back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from medeval.errors import EvalInputError
from medeval.runs import Run

BF16_CAPABILITY = (8, 0)
"""First CUDA compute capability with native bfloat16 (Ampere)."""


def pick_device() -> torch.device:
    """The first CUDA GPU if there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def inference_dtype(device: torch.device, requested: str = "auto") -> torch.dtype:
    """medtrain's precision rule (medtrain/precision.py; one shared test table keeps them equal):
    float32 on the CPU, float16 on CUDA below compute capability 8.0 (T4, V100), bfloat16 from
    8.0; a run's explicit `model.dtype` where the device runs it, else an input error."""
    native_bf16 = device.type == "cuda" and torch.cuda.get_device_capability(device) >= (
        BF16_CAPABILITY
    )
    if requested == "auto":
        if device.type == "cpu":
            return torch.float32
        return torch.bfloat16 if native_bf16 else torch.float16
    if (requested == "bfloat16" and device.type == "cuda" and not native_bf16) or (
        requested == "float16" and device.type == "cpu"
    ):
        raise EvalInputError(
            f"the run's model.dtype={requested} cannot run on this {device.type} device; "
            "set model.dtype: auto in its config.yaml"
        )
    dtype: torch.dtype = getattr(torch, requested)
    return dtype


def _from_pretrained_args(model_path: str) -> tuple[str, dict[str, Any]]:
    """A `.gguf` file loads through its folder with `gguf_file=` (transformers dequantizes it)."""
    if model_path.endswith(".gguf"):
        return str(Path(model_path).parent), {"gguf_file": Path(model_path).name}
    return model_path, {}


def open_tokenizer(model_path: str, adapter_dir: Path | None = None) -> Any:
    """The tokenizer saved with the adapter when there is one (medtrain saves it), else the
    model's; a missing pad token becomes the end-of-sequence token."""
    source, extra = (
        (str(adapter_dir), {})
        if adapter_dir is not None and (adapter_dir / "tokenizer_config.json").is_file()
        else _from_pretrained_args(model_path)
    )
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **extra)
    except (OSError, ValueError) as err:  # missing files; a folder that is not a model
        raise EvalInputError(f"{source}: cannot load a tokenizer ({err})") from None
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_tokenizer(run: Run) -> Any:
    """The tokenizer medtrain saved with the adapter (it has the chat template used in training)."""
    tokenizer = open_tokenizer(run.model_path, run.adapter_dir)
    if not tokenizer.chat_template:
        raise EvalInputError(
            f"{run.adapter_dir}: tokenizer has no chat_template; save one with the adapter"
        )
    return tokenizer


def load_causal_lm(
    model_path: str,
    adapter_dir: Path | None = None,
    device: torch.device | None = None,
    requested: str = "auto",
) -> Any:
    """Weights from a Hub id, a folder or a .gguf file, plus a LoRA adapter, in eval mode, in
    the device's precision (`requested`: a run's `model.dtype`)."""
    if adapter_dir is not None and not (adapter_dir / "adapter_config.json").is_file():
        raise EvalInputError(
            f"{adapter_dir}: no adapter_config.json; pass a run folder or a LoRA adapter folder"
        )
    device = device or pick_device()
    dtype = inference_dtype(device, requested)
    source, extra = _from_pretrained_args(model_path)
    try:
        model: Any = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **extra)
    except (OSError, ValueError) as err:  # missing files; a folder that is not a model
        raise EvalInputError(
            f"{model_path}: cannot load the model ({err}); give a Hub id, a model folder "
            "(config.json) or a .gguf file"
        ) from None
    if adapter_dir is not None:
        model = PeftModel.from_pretrained(model, str(adapter_dir))
    return model.to(device).eval()


def load_model(run: Run, device: torch.device | None = None) -> Any:
    """Base weights from `model.resolved_path` (else `model.base`) + the run adapter."""
    if not (run.adapter_dir / "adapter_config.json").is_file():
        raise EvalInputError(
            f"{run.adapter_dir}: no adapter_config.json; the run did not finish saving"
        )
    requested = str(run.config.get("model", {}).get("dtype", "auto"))
    return load_causal_lm(run.model_path, run.adapter_dir, device, requested)
