"""Export: merged weights reproduce the adapter's outputs; GGUF needs the user's llama.cpp."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from medtrain.errors import UserError
from medtrain.export import export_gguf, export_merged, merged_model
from medtrain.models import load_model
from medtrain.runs import read_config


def adapter_logits(run: Path, ids: torch.Tensor) -> torch.Tensor:
    from peft import PeftModel

    recipe = read_config(run)
    base = load_model(recipe.model.resolved_path or recipe.model.base, recipe.model)
    with torch.no_grad():
        return PeftModel.from_pretrained(base, str(run / "adapter")).eval()(ids).logits


def test_merged_model_matches_the_adapter(finished_run: Path) -> None:
    ids = torch.tensor([[1, 733, 16289, 28793, 11677, 733, 28748, 16289, 28793]])
    merged, _ = merged_model(finished_run)
    with torch.no_grad():
        got = merged.eval()(ids).logits
    reference = adapter_logits(finished_run, ids)
    assert torch.allclose(got, reference, atol=1e-5)
    recipe = read_config(finished_run)
    base = load_model(recipe.model.base, recipe.model)
    with torch.no_grad():
        assert not torch.allclose(base(ids).logits, reference, atol=1e-5), "adapter changed nothing"


def test_merged_16bit_folder_loads_and_agrees(finished_run: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = export_merged(finished_run)
    assert out.name == "merged-16bit"
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    assert AutoTokenizer.from_pretrained(out).pad_token is not None
    ids = torch.tensor([[1, 733, 16289, 28793, 11677]])
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, adapter_logits(finished_run, ids), atol=2e-2)


def test_gguf_without_llama_cpp_fails_clearly(
    finished_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LLAMA_CPP_DIR", raising=False)
    with pytest.raises(UserError, match=r"--gguf needs llama\.cpp.*never installs"):
        export_gguf(finished_run, None)
    with pytest.raises(UserError, match=r"no convert_hf_to_gguf\.py in"):
        export_gguf(finished_run, tmp_path)
    got = subprocess.run(
        [sys.executable, "-m", "medtrain", "export", str(finished_run), "--gguf"],
        capture_output=True, text=True, check=False, env={"PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert got.returncode == 2 and "LLAMA_CPP_DIR" in got.stderr and "Traceback" not in got.stderr
