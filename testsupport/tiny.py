"""Random-weight models of real architectures, small enough to train in a test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testsupport.tokenizers import mistral_tokenizer

ARCHITECTURES = {
    "mistral": ("MistralConfig", "MistralForCausalLM"),
    "llama": ("LlamaConfig", "LlamaForCausalLM"),
    "gemma": ("GemmaConfig", "GemmaForCausalLM"),
}
"""Architecture name -> transformers config and model classes."""


def tiny_causal_lm(
    arch: str = "llama", vocab_size: int = 32000, seed: int = 0, **config: Any
) -> Any:
    """A random-weight model of `arch` (2 layers, hidden 32 unless overridden)."""
    import torch
    import transformers

    config_cls, model_cls = (getattr(transformers, name) for name in ARCHITECTURES[arch])
    sizes: dict[str, Any] = {
        "vocab_size": vocab_size, "hidden_size": 32, "intermediate_size": 64,
        "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
        "head_dim": 8, "max_position_embeddings": 512,
    }  # fmt: skip
    sizes.update(config)
    torch.manual_seed(seed)
    return model_cls(config_cls(**sizes))


def tiny_model_dir(folder: Path, arch: str = "mistral", seed: int = 0) -> Path:
    """A saved random-weight model of `arch` with the real Mistral tokenizer (made once)."""
    if (folder / "config.json").is_file():
        return folder
    tiny_causal_lm(arch, seed=seed).save_pretrained(folder)
    tok = mistral_tokenizer()
    tok.bos_token, tok.eos_token, tok.unk_token = "<s>", "</s>", "<unk>"
    tok.save_pretrained(folder)
    return folder


def tiny_chat_llama(vocab_size: int) -> Any:
    """The evaluation tests' model: a random Llama (hidden 64, 2 layers) in eval mode."""
    return tiny_causal_lm(
        "llama", vocab_size, hidden_size=64, intermediate_size=128, head_dim=16,
        bos_token_id=1, eos_token_id=2, pad_token_id=0,
    ).eval()  # fmt: skip
