"""Typed recipe configuration: dataclasses whose fields say what they mean, strictly validated.

A recipe is YAML that maps onto `RecipeConfig`. Unknown keys are errors that suggest the closest
known key (a typo must never silently fall back to a default), and `--set a.b=v` overrides are
applied to the raw mapping before validation so they get the same checks.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from medtrain.errors import ConfigError

Backend = Literal["auto", "hf", "unsloth"]
TextField = Literal["messages", "prompt"]


@dataclass
class ModelConfig:
    base: str
    """Hub id or local path of the base model (what the adapter applies to)."""
    chat_template: str = "tokenizer"
    """`tokenizer` (the model's own), a shipped official template (medtrain.chat.OFFICIAL_TEMPLATES:
    mistral, llama, gemma, llama3, llama3.1, qwen2.5, gemma2, mistral-v0.3), or a .jinja path."""
    gguf_fallback: str | None = None
    """`package:file.gguf` shipping the same weights, used when the Hub is unreachable."""
    resolved_path: str | None = None
    """Local path actually loaded when it differs from `base` (set by medtrain, not by recipes)."""
    load_in_4bit: bool = False
    """Load the base in 4-bit NF4 with double quantization (bitsandbytes, CUDA or CPU): QLoRA."""
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    """Compute dtype; `auto` = float32 on the CPU, float16 on CUDA below compute capability 8.0
    (T4, V100), bfloat16 from 8.0 (A10, A100, L4, H100); see medtrain/precision.py."""
    requires_cuda: bool = False
    """Refuse to start without a CUDA GPU (7B models), unless forced."""
    max_seq_length: int = 2048
    """Longest training sequence in tokens; longer examples are dropped, never cut mid-answer."""


@dataclass
class LoraConfig:
    r: int = 16
    """LoRA rank."""
    alpha: int = 16
    """LoRA scaling numerator (scale = alpha / r, or alpha / sqrt(r) with rsLoRA)."""
    dropout: float = 0.0
    """Dropout on the LoRA input."""
    target_modules: list[str] = field(
        default_factory=lambda: [
            "q_proj",
            "k_proj",
            "v_proj",
            "o_proj",
            "gate_proj",
            "up_proj",
            "down_proj",
        ]
    )
    """Linear layers that get adapters."""
    use_rslora: bool = False
    """Rank-stabilized LoRA scaling."""
    use_dora: bool = False
    """Weight-decomposed LoRA (DoRA)."""


@dataclass
class DataConfig:
    dataset: str
    """Dataset variant: a local folder (data/processed/<variant>) or a Hub dataset id."""
    train_split: str = "train"
    """Split trained on."""
    test_split: str = "test"
    """Held-out split (answer loss before/after; medeval reads it too)."""
    text_field: TextField = "messages"
    """`messages` (rendered with the model's chat template) or the pre-rendered `prompt`."""
    max_train_samples: int | None = None
    """Use only the first N training rows (after shuffling with the seed)."""
    max_eval_samples: int | None = 64
    """Held-out rows scored for answer loss before and after training (None = all)."""
    packing: bool = False
    """Pack examples into rows of up to max_seq_length (TRL's best-fit decreasing), trained
    padding-free: no padding at all, attention and position ids kept per example."""
    padding_free: bool = False
    """Concatenate each batch's examples into one row without padding (attention and position ids
    kept per example); implied by `packing`."""


@dataclass
class TrainingConfig:
    backend: Backend = "auto"
    """`unsloth`, `hf`, or `auto` (unsloth where installed and supported)."""
    per_device_train_batch_size: int = 2
    """Examples per device per step."""
    gradient_accumulation_steps: int = 4
    """Micro-batches per optimizer step."""
    warmup_steps: int = 5
    """Linear warmup steps."""
    num_train_epochs: float = 1.0
    """Epochs (ignored when max_steps > 0)."""
    max_steps: int = -1
    """Stop after this many optimizer steps (-1: run the epochs)."""
    learning_rate: float = 2e-4
    """Peak learning rate."""
    optim: str = "adamw_8bit"
    """transformers optimizer name (adamw_8bit needs bitsandbytes; adamw_torch on the CPU)."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    lr_scheduler_type: str = "linear"
    """Learning-rate schedule."""
    seed: int = 42
    """Seed for data order, LoRA init and dropout."""
    logging_steps: int = 1
    """Write a loss.csv row every N steps."""
    save_steps: int = 50
    """Checkpoint every N steps (what --resume continues from)."""
    save_total_limit: int | None = 2
    """Checkpoints kept on disk."""
    keep_checkpoints: bool = False
    """Keep checkpoints/ after a successful run."""
    gradient_checkpointing: bool = False
    """Recompute activations in backward to save memory."""
    group_by_length: bool = True
    """Batch examples of similar length together (less padding; moot with packing/padding_free)."""
    neftune_noise_alpha: float | None = None
    """NEFTune: scale of the noise added to the input embeddings while training (None = off)."""
    use_liger_kernel: bool = False
    """Liger's Triton kernels for the model's layers (needs liger-kernel, triton, a CUDA GPU)."""
    report_to: str | list[str] = "none"
    """Trackers the trainer logs to: none, all, or names (tensorboard, wandb, mlflow, trackio)."""
    num_threads: int | None = None
    """torch CPU threads (None = torch's default)."""


@dataclass
class OutputConfig:
    root: str = "artifacts/runs"
    """Where run folders `<recipe>-<timestamp>/` are created."""


@dataclass
class RecipeConfig:
    name: str
    """Recipe name (the run folder prefix)."""
    model: ModelConfig
    """Base model."""
    data: DataConfig
    """Dataset variant."""
    description: str = ""
    """One line shown by `medtrain recipes`."""
    lora: LoraConfig = field(default_factory=LoraConfig)
    """LoRA adapter."""
    training: TrainingConfig = field(default_factory=TrainingConfig)
    """Optimisation."""
    output: OutputConfig = field(default_factory=OutputConfig)
    """Run outputs."""


def _suggest(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
    return f"; did you mean '{close[0]}'?" if close else f"; known keys: {', '.join(known)}"


def _convert(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(value, arg, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0])
    if origin is Literal:
        if value not in typing.get_args(hint):
            choices = ", ".join(map(str, typing.get_args(hint)))
            raise ConfigError(f"'{where}' is {value!r}; expected one of: {choices}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"'{where}' must be a list, got {value!r}")
        (item,) = typing.get_args(hint)
        return [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        return from_dict(hint, value, where)  # type: ignore[arg-type]
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is bool and not isinstance(value, bool):
        raise ConfigError(f"'{where}' must be true or false, got {value!r}")
    if hint is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"'{where}' must be an integer, got {value!r}")
    if hint in (str, float) and not isinstance(value, hint):
        raise ConfigError(f"'{where}' must be a {hint.__name__}, got {value!r}")
    return value


T = typing.TypeVar("T")


def from_dict(cls: type[T], data: Any, where: str = "") -> T:
    """Build a config dataclass from a mapping, rejecting unknown keys with a suggestion."""
    prefix = f"{where}." if where else ""
    if not isinstance(data, dict):
        raise ConfigError(f"'{where or 'recipe'}' must be a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            raise ConfigError(f"unknown key '{prefix}{key}'{_suggest(str(key), list(fields))}")
    kwargs = {}
    for name, f in fields.items():
        if name in data:
            kwargs[name] = _convert(data[name], hints[name], f"{prefix}{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"missing required key '{prefix}{name}'")
    return cls(**kwargs)


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `a.b=value` overrides (values parsed as YAML) to a raw recipe mapping."""
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r} is not of the form section.key=value")
        node = data
        parts = key.strip().split(".")
        cls: Any = RecipeConfig
        for i, part in enumerate(parts):
            known = (
                [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
            )
            if part not in known:
                where = ".".join(parts[: i + 1])
                raise ConfigError(f"--set: unknown key '{where}'{_suggest(part, known)}")
            hint = typing.get_type_hints(cls)[part]
            if i == len(parts) - 1:
                node[part] = yaml.safe_load(raw)
            else:
                node = node.setdefault(part, {})
                cls = hint
    return data


def to_dict(config: RecipeConfig) -> dict[str, Any]:
    return dataclasses.asdict(config)
