"""Tokenizers for tests: the real vocabularies where the repository ships them, else stand-ins
that carry a family's special tokens at their real ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from testsupport.paths import REPO, VOCAB

VOCAB_FILES = {
    "llama": "ggml-vocab-llama-spm.gguf",
    "llama3": "ggml-vocab-llama-bpe.gguf",
    "qwen2": "ggml-vocab-qwen2.gguf",
}
"""Family -> the vocab-only GGUF in data/vocab holding its real tokenizer."""
MISTRAL_V3 = "mistral_instruct_tokenizer_240323.model.v3"
"""mistral-common's SentencePiece model of tokenizer v3 (Mistral-7B-Instruct-v0.3)."""

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


GEMMA_SPECIAL = {
    "<pad>": 0,
    "<eos>": 1,
    "<bos>": 2,
    "<unk>": 3,
    "<mask>": 4,
    "<start_of_turn>": 106,
    "<end_of_turn>": 107,
}
"""Gemma's special tokens at their real ids. Gemma-2 keeps them (its config.json: bos 2, eos 1,
pad 0, vocabulary 256,000; its generation_config stops at 1 and 107)."""


def gemma_standin_tokenizer() -> Any:
    """Byte-level tokenizer carrying the Gemma-1 / Gemma-2 special tokens at their real ids (no
    Gemma tokenizer ships offline)."""
    return byte_level_tokenizer(
        GEMMA_SPECIAL, bos_token="<bos>", eos_token="<eos>", unk_token="<unk>", pad_token="<pad>"
    )


def llama_standin_tokenizer() -> Any:
    """Byte-level tokenizer with the Llama-2 / Mistral v1 special tokens at their real ids:
    <unk>=0 <s>=1 </s>=2 (where the real tokenizer cannot be loaded, e.g. an offline GPU box)."""
    return byte_level_tokenizer(
        {"<unk>": 0, "<s>": 1, "</s>": 2}, bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )


def mistral_v3_tokenizer() -> Any:
    """The real Mistral v3 tokenizer (Mistral-7B-Instruct-v0.3: 32,768 tokens, [INST]=3,
    [/INST]=4), from mistral-common's SentencePiece file, its control tokens special."""
    import mistral_common
    import sentencepiece as spm
    from transformers import LlamaTokenizer
    from transformers.tokenization_utils_base import generate_merges

    model = Path(mistral_common.__file__).parent / "data" / MISTRAL_V3
    sp = spm.SentencePieceProcessor(model_file=str(model))
    vocab = {sp.id_to_piece(i): i for i in range(sp.get_piece_size())}
    tok = LlamaTokenizer(
        vocab=vocab, merges=generate_merges(vocab), legacy=False, add_prefix_space=True
    )
    control = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.is_control(i)]
    tok.add_special_tokens({"additional_special_tokens": [t for t in control if t[0] == "["]})
    tok.bos_token, tok.eos_token, tok.unk_token = "<s>", "</s>", "<unk>"
    return tok


def _llama31_name(token_id: int, name: str) -> str:
    """Llama 3.1's name of a Llama-3 special token (3.1 gave reserved ids new roles)."""
    kept = ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")
    if not 128002 <= token_id <= 128255 or name in kept:
        return name
    renamed = {128004: "<|finetune_right_pad_id|>", 128008: "<|eom_id|>", 128010: "<|python_tag|>"}
    reserved = {128002: 0, 128003: 1, 128005: 2}.get(token_id, token_id - 128008)
    return renamed.get(token_id, f"<|reserved_special_token_{reserved}|>")


def llama31_tokenizer(cache: Path | None = None) -> Any:
    """The Llama-3.1 tokenizer: Llama-3's vocabulary (data/vocab) with 3.1's special-token
    names (<|finetune_right_pad_id|>=128004, <|eom_id|>=128008, <|python_tag|>=128010)."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    spec = json.loads(vocab_tokenizer("llama3", cache).backend_tokenizer.to_str())
    vocab = spec["model"]["vocab"]
    for token in spec["added_tokens"]:
        new = _llama31_name(token["id"], token["content"])
        if new != token["content"]:
            vocab[new] = vocab.pop(token["content"])
            token["content"] = new
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(json.dumps(spec)),
        bos_token="<|begin_of_text|>",
        eos_token="<|eot_id|>",
    )


def qwen25_tokenizer(cache: Path | None = None) -> Any:
    """The Qwen2.5 tokenizer (Qwen2's vocabulary, data/vocab) with Qwen2.5-Instruct's
    tokenizer_config: no bos, eos <|im_end|>=151645, pad <|endoftext|>=151643."""
    tok = vocab_tokenizer("qwen2", cache)
    tok.bos_token = None
    tok.eos_token, tok.pad_token = "<|im_end|>", "<|endoftext|>"
    return tok


def family_tokenizer(family: str, cache: Path | None = None) -> Any:
    """A chat family's tokenizer (the real vocabulary where it ships offline) with its official
    template from data/templates set."""
    from testsupport.templates import template_text

    if family in ("mistral", "mistral-v0.3"):
        tok = mistral_tokenizer() if family == "mistral" else mistral_v3_tokenizer()
    elif family in ("gemma", "gemma2"):
        tok = gemma_standin_tokenizer()
    elif family == "llama3.1":
        tok = llama31_tokenizer(cache)
    elif family == "qwen2.5":
        tok = qwen25_tokenizer(cache)
    else:
        tok = vocab_tokenizer(family, cache)
        if family == "llama3":  # the vocab GGUF predates the eos change to <|eot_id|>
            tok.eos_token = "<|eot_id|>"
    tok.chat_template = template_text(family)
    return tok


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
