"""Shared fixtures: schema-conformant variants, real tokenizers, tiny real-architecture models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
TEMPLATES = REPO / "data" / "templates"
REFERENCE = {
    "mistral": "mistralai_Mistral-7B-Instruct-v0.2",
    "llama": "meta-llama_Llama-2-7b-chat-hf",
    "gemma": "google_gemma-1.1-7b-it",
    "llama3": "meta-llama_Meta-Llama-3-8B-Instruct",
}
"""data/templates file stem of each family's official template."""
SYSTEM = "Answer the question truthfully, you are a medical professional."
LLAMA_CPP_SDIST = "llama-cpp-python==0.3.36"
"""Its sdist vendors llama.cpp's vocab-only GGUFs of the real Llama-2 and Llama-3 tokenizers."""
VOCAB_FILES = {"llama": "ggml-vocab-llama-spm.gguf", "llama3": "ggml-vocab-llama-bpe.gguf"}

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MEDTRAIN_CACHE", str(REPO / "artifacts" / "models"))


def reference_render(family: str, messages: list[dict[str, str]]) -> str:
    """The official template rendered as the README of data/templates says transformers does."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)

    def raise_exception(msg: str) -> None:
        raise jinja2.TemplateError(msg)

    env.globals["raise_exception"] = raise_exception
    special = json.loads((TEMPLATES / f"{REFERENCE[family]}.special_tokens.json").read_text())
    if family == "gemma":  # no system role: folded into the first user turn
        system, user, *rest = messages
        messages = [{"role": "user", "content": f"{system['content']}\n\n{user['content']}"}, *rest]
    template = env.from_string((TEMPLATES / f"{REFERENCE[family]}.jinja").read_text())
    return template.render(
        messages=messages,
        bos_token=special["bos_token"],
        eos_token=special["eos_token"],
        add_generation_prompt=False,
    )


def qa_rows(n: int, offset: int, family: str) -> list[dict[str, Any]]:
    """Learnable synthetic QA rows with every column of a variant (docs/schemas.md §2)."""
    drugs = ["metformin", "insulin", "aspirin", "warfarin", "amoxicillin"]
    rows = []
    for i in range(offset, offset + n):
        question = f"What is the first-line treatment of condition {i}?"
        answer = f"The first-line treatment of condition {i} is {drugs[i % 5]}, taken daily."
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer},
        ]
        rows.append(
            {
                "id": f"medquad:{i}",
                "instruction": SYSTEM,
                "input": question,
                "output": answer,
                "messages": messages,
                "prompt": reference_render(family, messages),
                "source": "medquad",
                "source_id": str(i),
                "collection": "GHR",
                "focus": f"condition {i}",
                "qtype": "treatment",
                "url": None,
            }
        )
    return rows


def write_variant(folder: Path, family: str, n_train: int = 48, n_test: int = 8) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(qa_rows(n_train, 0, family)).to_parquet(
        folder / "data" / "train-00000-of-00001.parquet"
    )
    pd.DataFrame(qa_rows(n_test, 1000, family)).to_parquet(
        folder / "data" / "test-00000-of-00001.parquet"
    )
    return folder


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Mistral-format variant folder."""
    return write_variant(
        tmp_path_factory.mktemp("data") / "medical_mistral_instruct_dataset_short", "mistral"
    )


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


def vocab_gguf(family: str, cache: Path) -> Path | None:
    """llama.cpp's vocab-only GGUF of a family, fetched once from the llama-cpp-python sdist."""
    path = cache / VOCAB_FILES[family]
    if not path.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        got = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             LLAMA_CPP_SDIST, "-d", str(cache), "-q"],
            check=False, capture_output=True, timeout=300,
        )  # fmt: skip
        sdists = list(cache.glob("llama_cpp_python-*.tar.gz"))
        if got.returncode != 0 or not sdists:
            return None
        with tarfile.open(sdists[0]) as tar:
            for member in tar.getmembers():
                if Path(member.name).name in VOCAB_FILES.values():
                    member.name = Path(member.name).name
                    tar.extract(member, cache, filter="data")
        sdists[0].unlink()
    return path if path.is_file() else None


def synthetic_gemma_tokenizer() -> Any:
    """Byte-level tokenizer carrying Gemma's special tokens at their real ids (no Gemma-1
    tokenizer ships offline): <pad>=0 <eos>=1 <bos>=2 <unk>=3 <start_of_turn>=106
    <end_of_turn>=107."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    special = {
        "<pad>": 0,
        "<eos>": 1,
        "<bos>": 2,
        "<unk>": 3,
        "<mask>": 4,
        "<start_of_turn>": 106,
        "<end_of_turn>": 107,
    }
    alphabet = iter(sorted(pre_tokenizers.ByteLevel.alphabet()))
    vocab = dict(special)
    for i in range(256 + len(special)):
        if i not in special.values():
            vocab[next(alphabet)] = i
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens(list(special))
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<bos>",
        eos_token="<eos>",
        unk_token="<unk>",
        pad_token="<pad>",
    )


@pytest.fixture(scope="session")
def family_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """family -> tokenizer with the official template set (real vocabularies where available)."""
    from transformers import AutoTokenizer

    from medtrain.chat import set_template

    cache = Path(os.environ["MEDTRAIN_CACHE"]) / "vocab"
    built: dict[str, Any] = {}

    def get(family: str) -> Any:
        if family not in built:
            if family == "mistral":
                tok = mistral_tokenizer()
            elif family == "gemma":
                tok = synthetic_gemma_tokenizer()
            else:
                saved = cache / f"{family}-tokenizer"
                if not (saved / "tokenizer.json").is_file():
                    gguf = vocab_gguf(family, cache)
                    if gguf is None:
                        pytest.skip(
                            f"real {family} vocabulary unavailable ({LLAMA_CPP_SDIST} sdist)"
                        )
                    AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(
                        saved
                    )
                tok = AutoTokenizer.from_pretrained(saved)
                if family == "llama3":  # vocab GGUF predates the eos change to <|eot_id|>
                    tok.eos_token = "<|eot_id|>"
            set_template(tok, family)
            built[family] = tok
        return built[family]

    return get


TINY = {
    "mistral": ("MistralConfig", "MistralForCausalLM"),
    "llama": ("LlamaConfig", "LlamaForCausalLM"),
    "gemma": ("GemmaConfig", "GemmaForCausalLM"),
}


def tiny_model_dir(folder: Path, arch: str = "mistral", seed: int = 0) -> Path:
    """Random-weight model of a real architecture (2 layers, hidden 32), Mistral tokenizer."""
    import torch
    import transformers

    if (folder / "config.json").is_file():
        return folder
    torch.manual_seed(seed)
    config_cls, model_cls = (getattr(transformers, name) for name in TINY[arch])
    config = config_cls(
        vocab_size=32000, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=8, max_position_embeddings=512,
    )  # fmt: skip
    model = model_cls(config)
    model.save_pretrained(folder)
    tok = mistral_tokenizer()
    tok.bos_token, tok.eos_token, tok.unk_token = "<s>", "</s>", "<unk>"
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_dir(tmp_path_factory.mktemp("tiny") / "mistral")


STEPS = 6
"""Optimizer steps of the tiny training runs."""


@pytest.fixture(scope="session")
def recipe_file(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path, variant: Path) -> Path:
    folder = tmp_path_factory.mktemp("recipe")
    return write_recipe(folder / "tiny.yaml", tiny_model, variant, folder / "runs", max_steps=STEPS)


@pytest.fixture(scope="session")
def finished_run(recipe_file: Path) -> Path:
    """A finished 6-step run of the tiny Mistral (shared by the trainer and export tests)."""
    from medtrain.recipes import load_recipe
    from medtrain.trainer import train

    return train(load_recipe(str(recipe_file)))


def write_recipe(path: Path, model: Path, dataset: Path, runs: Path, **training: Any) -> Path:
    """A CPU recipe YAML training `model` on `dataset` for a handful of steps."""
    recipe = {
        "name": "tiny",
        "model": {
            "base": str(model), "chat_template": "mistral",
            "dtype": "float32", "max_seq_length": 128,
        },
        "lora": {"r": 4, "alpha": 8},
        "data": {"dataset": str(dataset), "max_eval_samples": 4},
        "training": {
            "backend": "hf", "per_device_train_batch_size": 2, "gradient_accumulation_steps": 1,
            "max_steps": 5, "warmup_steps": 1, "optim": "adamw_torch", "learning_rate": 1e-3,
            "save_steps": 2, "logging_steps": 1, **training,
        },
        "output": {"root": str(runs)},
    }  # fmt: skip
    path.write_text(yaml.safe_dump(recipe))
    return path
