"""Export a run: the adapter merged into 16-bit base weights, and GGUF via the user's llama.cpp.

A 4-bit base is dequantized before merging: the adapter was trained against the dequantized
weights, so merging into the original 16-bit checkpoint would give a different model. The merge
happens in this device's compute dtype (float32 on the CPU) and is rounded once, to the export
dtype (`medtrain.precision`), when saved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from medtrain import precision, runs
from medtrain.errors import UserError
from medtrain.models import load_model, load_tokenizer

CONVERTER = "convert_hf_to_gguf.py"
"""llama.cpp's HF → GGUF converter script."""


def merged_model(run: Path) -> tuple[Any, Any]:
    """(merged model, tokenizer) of a run, in this device's compute dtype for the recipe."""
    from peft import PeftModel

    recipe = runs.read_config(run)
    adapter = run / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise UserError(f"{run} has no adapter/ (did the run finish?)")
    chosen = precision.resolve(recipe.model.dtype)
    model = load_model(recipe.model.resolved_path or recipe.model.base, recipe.model, chosen)
    if getattr(model, "hf_quantizer", None) is not None:
        model = model.dequantize(dtype=chosen.torch_dtype())
    tokenizer = load_tokenizer(str(adapter))
    if len(tokenizer) > model.get_input_embeddings().weight.shape[0]:
        model.resize_token_embeddings(len(tokenizer))
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    return merged, tokenizer


def export_merged(run: Path) -> Path:
    """Write run/merged-16bit in the export dtype (bfloat16, or float16 where the GPU computes
    in float16)."""
    chosen = precision.resolve(runs.read_config(run).model.dtype)
    model, tokenizer = merged_model(run)
    out = run / "merged-16bit"
    model.to(chosen.torch_dtype(chosen.export_dtype)).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def find_converter(llama_cpp: Path | None) -> Path:
    root = llama_cpp or (
        Path(os.environ["LLAMA_CPP_DIR"]) if "LLAMA_CPP_DIR" in os.environ else None
    )
    if root is None:
        raise UserError(
            "--gguf needs llama.cpp: pass --llama-cpp PATH or set LLAMA_CPP_DIR to a llama.cpp "
            f"checkout containing {CONVERTER} (medtrain never installs or clones it for you)"
        )
    script = root / CONVERTER if root.is_dir() else root
    if script.name != CONVERTER or not script.is_file():
        raise UserError(f"no {CONVERTER} in {root}; point --llama-cpp at a llama.cpp checkout")
    return script


def export_gguf(run: Path, llama_cpp: Path | None) -> Path:
    """Merge to 16-bit, then run llama.cpp's converter on it (run/gguf/model-f16.gguf)."""
    script = find_converter(llama_cpp)
    merged = run / "merged-16bit"
    if not (merged / "config.json").is_file():
        merged = export_merged(run)
    out = run / "gguf" / "model-f16.gguf"
    out.parent.mkdir(exist_ok=True)
    cmd = [sys.executable, str(script), str(merged), "--outfile", str(out), "--outtype", "f16"]
    if subprocess.run(cmd, check=False).returncode != 0:
        raise UserError(f"llama.cpp's converter failed on {merged} (see its output above)")
    return out
