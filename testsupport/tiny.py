"""Random-weight models of real architectures, small enough to train in a test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testsupport.tokenizers import family_tokenizer, mistral_tokenizer


@dataclass(frozen=True)
class Architecture:
    """A transformers architecture the recipes train, and what makes a tiny copy of it real."""

    config: str
    """transformers config class."""
    model: str
    """transformers causal-LM class."""
    family: str
    """Chat family of the newest recipe on it (the tokenizer and template tests pair it with)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Config values that distinguish it (rope, softcapping, sliding window)."""


LLAMA31_ROPE = {
    "rope_parameters": {
        "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 128,
    },
}  # fmt: skip
"""Llama-3.1's rope: theta 500k with the "llama3" frequency scaling."""
GEMMA2_LAYERS = {
    "sliding_window": 16, "attn_logit_softcapping": 50.0, "final_logit_softcapping": 30.0,
    "query_pre_attn_scalar": 8,
}  # fmt: skip
"""Gemma-2: alternating sliding-window / global attention layers, logit softcapping."""

ARCHITECTURES = {
    "mistral": Architecture("MistralConfig", "MistralForCausalLM", "mistral-v0.3"),
    "llama": Architecture("LlamaConfig", "LlamaForCausalLM", "llama"),
    "gemma": Architecture("GemmaConfig", "GemmaForCausalLM", "gemma"),
    "llama3": Architecture("LlamaConfig", "LlamaForCausalLM", "llama3.1", LLAMA31_ROPE),
    "qwen2": Architecture("Qwen2Config", "Qwen2ForCausalLM", "qwen2.5"),  # q/k/v biases
    "gemma2": Architecture("Gemma2Config", "Gemma2ForCausalLM", "gemma2", GEMMA2_LAYERS),
}
"""Every architecture of the 7B recipes (Mistral, Llama-2, Gemma-1, Llama-3, Qwen2, Gemma-2)."""


def tiny_causal_lm(
    arch: str = "llama", vocab_size: int = 32000, seed: int = 0, **config: Any
) -> Any:
    """A random-weight model of `arch` (2 layers, hidden 32 unless overridden)."""
    import torch
    import transformers

    spec = ARCHITECTURES[arch]
    config_cls, model_cls = (getattr(transformers, name) for name in (spec.config, spec.model))
    sizes: dict[str, Any] = {
        "vocab_size": vocab_size, "hidden_size": 32, "intermediate_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 8, "max_position_embeddings": 512, **spec.settings,
    }  # fmt: skip
    sizes.update(config)
    torch.manual_seed(seed)
    return model_cls(config_cls(**sizes))


def tiny_model_dir(
    folder: Path, arch: str = "mistral", seed: int = 0, family: str | None = None, **config: Any
) -> Path:
    """A saved random-weight model of `arch` (made once) with `family`'s tokenizer and template,
    or the real Mistral v1 tokenizer when no family is named."""
    if (folder / "config.json").is_file():
        return folder
    if family is None:
        tok = mistral_tokenizer()
        tok.bos_token, tok.eos_token, tok.unk_token = "<s>", "</s>", "<unk>"
    else:
        tok = family_tokenizer(family)
    ids = {key: getattr(tok, key) for key in ("bos_token_id", "eos_token_id", "pad_token_id")}
    tiny_causal_lm(arch, len(tok), seed, **ids, **config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def tiny_chat_llama(vocab_size: int) -> Any:
    """The evaluation tests' model: a random Llama (hidden 64, 2 layers) in eval mode."""
    return tiny_causal_lm(
        "llama", vocab_size, hidden_size=64, intermediate_size=128, head_dim=16,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    ).eval()  # fmt: skip
