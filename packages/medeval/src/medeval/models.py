"""Load a run's base model with its LoRA adapter; `disable_adapter()` gives the base model back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from peft import PeftModel
from transformers import AutoModelForCausalLM, AutoTokenizer

from medeval.errors import EvalInputError
from medeval.runs import Run


def pick_device() -> torch.device:
    """The first CUDA GPU if there is one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _from_pretrained_args(model_path: str) -> tuple[str, dict[str, Any]]:
    """A `.gguf` file loads through its folder with `gguf_file=` (transformers dequantizes it)."""
    if model_path.endswith(".gguf"):
        return str(Path(model_path).parent), {"gguf_file": Path(model_path).name}
    return model_path, {}


def load_tokenizer(run: Run) -> Any:
    """The tokenizer medtrain saved with the adapter (it has the chat template used in training)."""
    source, extra = (
        (str(run.adapter_dir), {})
        if run.adapter_dir.is_dir()
        else _from_pretrained_args(run.model_path)
    )
    tokenizer = AutoTokenizer.from_pretrained(source, **extra)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not tokenizer.chat_template:
        raise EvalInputError(f"{source}: tokenizer has no chat_template; save one with the adapter")
    return tokenizer


def load_model(run: Run, device: torch.device | None = None) -> PeftModel:
    """Base weights from `model.resolved_path` (else `model.base`) + the run adapter, eval mode."""
    if not (run.adapter_dir / "adapter_config.json").is_file():
        raise EvalInputError(
            f"{run.adapter_dir}: no adapter_config.json; the run did not finish saving"
        )
    device = device or pick_device()
    dtype = (
        torch.bfloat16
        if device.type == "cuda" and torch.cuda.is_bf16_supported()
        else torch.float32
    )
    source, extra = _from_pretrained_args(run.model_path)
    base = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **extra)
    model = PeftModel.from_pretrained(base, str(run.adapter_dir))
    return model.to(device).eval()
