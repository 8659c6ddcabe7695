"""A base model's shape without its weights, and the parameter counts that follow from it.

The shape comes from, in order: a local model folder's config.json, the config.json shipped in
`medtrain/archs/` for the recipes' base models (exact copies of the published fields, so `plan`
works offline), or the Hub. Counts are closed-form from the shapes; tests check them against
peft's count on real architectures built on the meta device.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from medtrain.config import LoraConfig, ModelConfig
from medtrain.errors import UserError

NORMS_PER_LAYER = {"gemma2": 4, "gemma3_text": 4}
"""RMSNorms per decoder layer where it is not the usual two (pre-attention, pre-MLP)."""
QKV_BIAS = frozenset({"qwen2"})
"""Architectures whose q/k/v projections carry a bias."""


@dataclass(frozen=True)
class Shape:
    """What the memory plan needs of a decoder-only transformer."""

    model_type: str
    """transformers model_type (llama, mistral, gemma, qwen2, ...)."""
    vocab: int
    """Vocabulary size (rows of the embedding and of the output layer)."""
    hidden: int
    """Width of the residual stream."""
    intermediate: int
    """Width of the gated MLP."""
    layers: int
    """Decoder layers."""
    heads: int
    """Attention (query) heads."""
    kv_heads: int
    """Key/value heads (grouped-query attention when fewer than heads)."""
    head_dim: int
    """Width of one head."""
    tied: bool
    """The output layer reuses the embedding matrix."""

    @classmethod
    def from_config(cls, cfg: dict[str, Any]) -> Shape:
        heads = int(cfg["num_attention_heads"])
        hidden = int(cfg["hidden_size"])
        return cls(
            model_type=str(cfg.get("model_type", "llama")),
            vocab=int(cfg["vocab_size"]),
            hidden=hidden,
            intermediate=int(cfg["intermediate_size"]),
            layers=int(cfg["num_hidden_layers"]),
            heads=heads,
            kv_heads=int(cfg.get("num_key_value_heads") or heads),
            head_dim=int(cfg.get("head_dim") or hidden // heads),
            tied=bool(cfg.get("tie_word_embeddings", False)),
        )

    def linear_dims(self) -> dict[str, tuple[int, int]]:
        """(in, out) features of each linear layer of one decoder layer, and of the output."""
        h, i = self.hidden, self.intermediate
        q, kv = self.heads * self.head_dim, self.kv_heads * self.head_dim
        return {
            "q_proj": (h, q),
            "k_proj": (h, kv),
            "v_proj": (h, kv),
            "o_proj": (q, h),
            "gate_proj": (h, i),
            "up_proj": (h, i),
            "down_proj": (i, h),
        }


@dataclass(frozen=True)
class ParamCounts:
    """Parameters of the base model by how they are stored, and the LoRA adapter's."""

    quantizable: int
    """Weights of the decoder layers' linear layers (what 4-bit loading quantizes)."""
    other: int
    """Embedding, untied output layer, norms and biases (kept in 16/32-bit)."""
    lora: int
    """Trainable adapter parameters."""
    lora_tensors: tuple[int, ...]
    """Element count of each trainable tensor (8-bit optimizers treat small ones apart)."""

    @property
    def total(self) -> int:
        return self.quantizable + self.other


def count_params(shape: Shape, lora: LoraConfig) -> ParamCounts:
    """Exact base and LoRA parameter counts (LoRA: r x (in + out) per adapted linear layer,
    plus out for DoRA's magnitude vector)."""
    dims = shape.linear_dims()
    unknown = sorted(set(lora.target_modules) - set(dims) - {"lm_head"})
    if unknown:
        raise UserError(
            f"lora.target_modules: the plan does not know {', '.join(unknown)} "
            f"(known: {', '.join([*dims, 'lm_head'])})"
        )
    h, v = shape.hidden, shape.vocab
    per_layer = sum(i * o for i, o in dims.values())
    norms = NORMS_PER_LAYER.get(shape.model_type, 2) * h
    bias = (
        sum(dims[m][1] for m in ("q_proj", "k_proj", "v_proj"))
        if shape.model_type in QKV_BIAS
        else 0
    )
    other = v * h * (1 if shape.tied else 2) + shape.layers * (norms + bias) + h
    tensors: list[int] = []
    adapted = dict(dims, lm_head=(h, v))
    for name in lora.target_modules:
        fan_in, fan_out = adapted[name]
        count = 1 if name == "lm_head" else shape.layers
        per = [lora.r * fan_in, lora.r * fan_out] + ([fan_out] if lora.use_dora else [])
        tensors += per * count
    return ParamCounts(shape.layers * per_layer, other, sum(tensors), tuple(tensors))


def arch_key(base: str) -> str:
    """`unsloth/mistral-7b-instruct-v0.2-bnb-4bit` -> `mistral-7b-instruct-v0.2`: the shipped
    config a Hub id maps to (pre-quantized and original checkpoints share one shape)."""
    name = base.rstrip("/").rsplit("/", 1)[-1].lower()
    name = re.sub(r"(-unsloth)?(-bnb)?-4bit$", "", name)
    return name.removeprefix("meta-").removesuffix("-hf")


def shipped_archs() -> list[str]:
    folder = resources.files("medtrain") / "archs"
    return sorted(
        p.name.removesuffix(".json") for p in folder.iterdir() if p.name.endswith(".json")
    )


def _hub_config(base: str) -> dict[str, Any] | None:
    from medtrain.models import hub_reachable

    if not hub_reachable():
        return None
    from huggingface_hub import hf_hub_download

    try:
        return dict(json.loads(Path(hf_hub_download(base, "config.json")).read_text()))
    except Exception:  # gated, missing or renamed: the caller names the ways out
        return None


def model_config(model: ModelConfig) -> tuple[dict[str, Any], str]:
    """The base model's config.json and where it came from (no weights are read)."""
    for candidate in (model.resolved_path, model.base):
        if candidate and (Path(candidate) / "config.json").is_file():
            path = Path(candidate) / "config.json"
            return dict(json.loads(path.read_text())), str(path)
    key = arch_key(model.base)
    if key in shipped_archs():
        text = (resources.files("medtrain") / "archs" / f"{key}.json").read_text()
        return dict(json.loads(text)), f"medtrain/archs/{key}.json"
    found = _hub_config(model.base)
    if found is not None:
        return found, f"Hub: {model.base}/config.json"
    raise UserError(
        f"no config.json for {model.base}: not a local folder, not one of the shipped "
        f"architectures ({', '.join(shipped_archs())}), and the Hub is unreachable; "
        "point model.base at a folder holding its config.json"
    )


def load_shape(model: ModelConfig) -> tuple[Shape, str]:
    cfg, source = model_config(model)
    return Shape.from_config(cfg.get("text_config", cfg)), source
