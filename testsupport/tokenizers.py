"""Tokenizers for tests: the real vocabularies where the repository ships them, else stand-ins
that carry a family's special tokens at their real ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testsupport.paths import REPO, VOCAB

VOCAB_FILES = {
    "llama": "ggml-vocab-llama-spm.gguf",
    "llama3": "ggml-vocab-llama-bpe.gguf",
    "qwen2": "ggml-vocab-qwen2.gguf",
}
"""Family -> the vocab-only GGUF in data/vocab holding its real tokenizer."""

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
"""A ChatML template (SmolLM2's and Qwen's turn format)."""
CHATML_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def mistral_tokenizer() -> Any:
    """The real Mistral-7B v1 tokenizer (shipped by mistral-common) as a transformers tokenizer."""
    import mistral_common
    import sentencepiece as spm
    from transformers import LlamaTokenizer
    from transformers.tokenization_utils_base import generate_merges

    model = Path(mistral_common.__file__).parent / "data" / "tokenizer.model.v1"
    sp = spm.SentencePieceProcessor(model_file=str(model))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    return LlamaTokenizer(
        vocab=vocab, merges=generate_merges(vocab), legacy=False, add_prefix_space=True
    )


def vocab_tokenizer(family: str, cache: Path | None = None) -> Any:
    """The real tokenizer of `family` from its shipped vocab GGUF (converted once, then cached)."""
    from transformers import AutoTokenizer

    saved = (cache or REPO / "artifacts" / "models" / "vocab") / f"{family}-tokenizer"
    if not (saved / "tokenizer.json").is_file():
        name = VOCAB_FILES[family]
        AutoTokenizer.from_pretrained(VOCAB, gguf_file=name).save_pretrained(saved)
    return AutoTokenizer.from_pretrained(saved)


def byte_level_tokenizer(special: dict[str, int], **tokens: str) -> Any:
    """Byte-level BPE without merges: every byte is a token; `special` at the given ids."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    alphabet = iter(sorted(pre_tokenizers.ByteLevel.alphabet()))
    vocab = dict(special)
    for i in range(256 + len(special)):
        if i not in special.values():
            vocab[next(alphabet)] = i
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    backend.add_special_tokens(list(special))
    return PreTrainedTokenizerFast(tokenizer_object=backend, **tokens)


def gemma_standin_tokenizer() -> Any:
    """Byte-level tokenizer carrying Gemma's special tokens at their real ids (no Gemma
    tokenizer ships offline): <pad>=0 <eos>=1 <bos>=2 <unk>=3 <start_of_turn>=106
    <end_of_turn>=107."""
    special = {
        "<pad>": 0,
        "<eos>": 1,
        "<bos>": 2,
        "<unk>": 3,
        "<mask>": 4,
        "<start_of_turn>": 106,
        "<end_of_turn>": 107,
    }
    return byte_level_tokenizer(
        special, bos_token="<bos>", eos_token="<eos>", unk_token="<unk>", pad_token="<pad>"
    )


def llama_standin_tokenizer() -> Any:
    """Byte-level tokenizer with the Llama-2 / Mistral v1 special tokens at their real ids:
    <unk>=0 <s>=1 </s>=2 (where the real tokenizer cannot be loaded, e.g. an offline GPU box)."""
    return byte_level_tokenizer(
        {"<unk>": 0, "<s>": 1, "</s>": 2}, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )


def chatml_byte_tokenizer() -> Any:
    """Byte-level tokenizer with ChatML's special tokens first (ids 0-2) and a ChatML template."""
    tokenizer = byte_level_tokenizer(
        {token: i for i, token in enumerate(CHATML_SPECIAL)},
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token="<|im_start|>",
        additional_special_tokens=CHATML_SPECIAL,
    )
    tokenizer.chat_template = CHATML
    return tokenizer


def template_tokenizer(template: str, special_tokens: dict[str, str]) -> Any:
    """A byte-level transformers tokenizer carrying `template` and the named `special_tokens`
    (bos_token, eos_token, ...): what `apply_chat_template` needs to render a chat template."""
    ids = {token: i for i, token in enumerate(dict.fromkeys(special_tokens.values()))}
    tokenizer = byte_level_tokenizer(ids, **special_tokens)
    tokenizer.chat_template = template
    return tokenizer
