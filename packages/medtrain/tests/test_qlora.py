"""The 7B recipes' QLoRA path, executed on the CPU, on a tiny random-weight model of every
architecture they train (Mistral, Llama-2, Gemma-1, Llama-3, Qwen2, Gemma-2), each with its
family's real special tokens and official template: 4-bit NF4 + double quant base,
prepare_model_for_kbit_training, gradient checkpointing, bitsandbytes' 8-bit AdamW; the loss
goes down; the adapter is saved, a run killed with SIGKILL resumes to the same losses, and
`export --merged-16bit` (dequantize, then merge) reproduces the adapter's logits."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

from medtrain.export import export_merged, merged_model
from medtrain.models import load_model
from medtrain.recipes import load_recipe
from medtrain.runs import read_config
from medtrain.trainer import train
from testsupport.recipes import QLORA, write_recipe
from testsupport.tiny import ARCHITECTURES, tiny_model_dir
from testsupport.variants import write_family_variant

STEPS = 8
"""Optimizer steps of each architecture's run (checkpoints every 2)."""
SIZES = {"hidden_size": 64, "intermediate_size": 128, "head_dim": 16}
"""Big enough that the LoRA matrices of the MLP (32 x 128) reach bitsandbytes' 4,096-element
threshold below which its "8-bit" optimizers keep 32-bit states."""
LORA = {"r": 32, "alpha": 32}

EXPORT_TOLERANCE = 2**-7
"""Largest |exported - adapter| logit difference, relative to the largest |logit|.

Where the difference comes from: the reference is what training computed, the 4-bit base with
the adapter in float32 (bitsandbytes' CPU matmul dequantizes each NF4 weight to float32 first).
The export dequantizes the same weights to float32 and merges B @ A * scale in float32, which
alone agrees to 1e-4 absolute (test_merge_in_float32_is_exact), then rounds every merged weight
once to bfloat16: at most 2^-9 relative per weight. Across two layers, softcapping and the LM
head these roundings partly cancel and partly add up: measured 1.3e-3 to 3.4e-3 of the largest
logit (2^-9.5 to 2^-8.2) on the six architectures. 2^-7 (7.8e-3) leaves 2.3x headroom and is
still 100x below what the adapter changes in the logits (0.8-1.3 of the largest logit; the test
asserts the change exceeds 5x the tolerance, so agreement cannot come from an adapter that does
nothing)."""


@pytest.fixture(scope="module")
def qlora_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, Path]]:
    """arch -> (recipe file, finished QLoRA run with its checkpoints), trained once per arch."""
    done: dict[str, tuple[Path, Path]] = {}

    def get(arch: str) -> tuple[Path, Path]:
        if arch not in done:
            root = tmp_path_factory.mktemp(f"qlora-{arch}")
            family = ARCHITECTURES[arch].family
            model = tiny_model_dir(root / "model", arch, family=family, **SIZES)
            data = write_family_variant(root / family, family)
            sections: dict[str, dict[str, Any]] = {
                "model": {**QLORA["model"], "chat_template": family, "max_seq_length": 512},
                "lora": LORA,
                "training": {**QLORA["training"], "keep_checkpoints": True},
            }
            recipe = write_recipe(
                root / "recipe.yaml", model, data, root / "runs", sections,
                max_steps=STEPS, learning_rate=5e-3, warmup_steps=0,
            )  # fmt: skip
            done[arch] = (recipe, train(load_recipe(str(recipe))))
        return done[arch]

    return get


@pytest.mark.parametrize("arch", ["llama", "qwen2"])
def test_4bit_layers_keep_their_gradients_after_an_eval_pass(arch: str, tmp_path: Path) -> None:
    """bitsandbytes' AVX512-BF16 CPU kernel, which a 4-bit layer switches to after an eval pass,
    has no backward (models.keep_4bit_differentiable); Qwen2's biased q/k/v raised there."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

    from medtrain.config import ModelConfig

    folder = tiny_model_dir(tmp_path / arch, arch, family=ARCHITECTURES[arch].family, **SIZES)
    config = ModelConfig(base=str(folder), load_in_4bit=True)
    ids = torch.arange(100, 132).reshape(2, 16)

    def lora_grads(eval_first: bool) -> dict[str, torch.Tensor | None]:
        torch.manual_seed(0)
        base = load_model(str(folder), config)
        model = prepare_model_for_kbit_training(base, use_gradient_checkpointing=False)
        lora = LoraConfig(r=8, target_modules=["q_proj", "up_proj"], init_lora_weights=False)
        model = get_peft_model(model, lora)
        if eval_first:
            with torch.no_grad():
                model.eval()(ids)
        model.train()(input_ids=ids, labels=ids).loss.backward()
        return {n: p.grad for n, p in model.named_parameters() if p.requires_grad}

    plain, after_eval = lora_grads(False), lora_grads(True)
    assert len(after_eval) == 2 * 2 * 2 and all(g is not None for g in after_eval.values())
    for name, grad in plain.items():
        assert grad is not None and torch.allclose(after_eval[name], grad, rtol=1e-5), name  # type: ignore[arg-type]


def losses(run: Path) -> list[float]:
    with (run / "loss.csv").open() as f:
        return [float(row["loss"]) for row in csv.DictReader(f)]


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_4bit_training_with_8bit_adamw_learns(
    arch: str, qlora_run: Callable[[str], tuple[Path, Path]]
) -> None:
    import bitsandbytes as bnb

    _, run = qlora_run(arch)
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert stats["global_step"] == STEPS
    assert stats["eval_answer_loss_after"] < stats["eval_answer_loss_before"] - 0.05
    curve = losses(run)
    assert sum(curve[-2:]) < sum(curve[:2])
    recipe = read_config(run)
    base = load_model(recipe.model.base, recipe.model)
    layers = [m for m in base.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert len(layers) == 2 * 7  # every projection of both layers; the LM head stays unquantized
    state = layers[0].weight.quant_state
    assert state.quant_type == "nf4" and state.nested  # NF4, double quantization
    optimizer = torch.load(run / "checkpoints" / f"checkpoint-{STEPS}" / "optimizer.pt")
    states = [s["__bnb_optimizer_quant_state__"] for s in optimizer["state"].values()]
    assert any(s["state1"].dtype == s["state2"].dtype == torch.uint8 for s in states)  # 8-bit
    assert (run / "adapter" / "adapter_model.safetensors").is_file()


def adapter_logits(run: Path, ids: torch.Tensor, with_adapter: bool = True) -> torch.Tensor:
    """The trained model as training saw it: the 4-bit base (+ the adapter), float32 compute."""
    from peft import PeftModel

    recipe = read_config(run)
    base = load_model(recipe.model.base, recipe.model)
    model = PeftModel.from_pretrained(base, str(run / "adapter")).eval()
    with torch.no_grad():
        if with_adapter:
            return model(ids).logits
        with model.disable_adapter():
            return model(ids).logits


def probe_ids(run: Path) -> torch.Tensor:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(run / "adapter")
    messages = [{"role": "user", "content": "What is the first-line treatment of condition 3?"}]
    text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return torch.tensor([tok(text + "The first-line", add_special_tokens=False)["input_ids"]])


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_merge_in_float32_is_exact(
    arch: str, qlora_run: Callable[[str], tuple[Path, Path]]
) -> None:
    _, run = qlora_run(arch)
    ids = probe_ids(run)
    merged, _ = merged_model(run)
    assert merged.dtype == torch.float32 and getattr(merged, "hf_quantizer", None) is None
    with torch.no_grad():
        got = merged.eval()(ids).logits
    assert torch.allclose(got, adapter_logits(run, ids), atol=1e-4, rtol=0)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_merged_16bit_export_from_the_4bit_base_agrees_with_the_adapter(
    arch: str, qlora_run: Callable[[str], tuple[Path, Path]]
) -> None:
    from transformers import AutoModelForCausalLM

    _, run = qlora_run(arch)
    out = export_merged(run)
    config = json.loads((out / "config.json").read_text())
    assert "quantization_config" not in config and config["dtype"] == "bfloat16"
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    ids = probe_ids(run)
    with torch.no_grad():
        exported = model(ids).logits
    reference = adapter_logits(run, ids)
    scale = reference.abs().max()
    error = ((exported - reference).abs().max() / scale).item()
    change = ((adapter_logits(run, ids, with_adapter=False) - reference).abs().max() / scale).item()
    print(f"{arch}: export error {error:.2e} (2^{torch.tensor(error).log2():.1f}), "
          f"adapter change {change:.2e}")  # fmt: skip
    assert error < EXPORT_TOLERANCE
    assert change > 5 * EXPORT_TOLERANCE, "the adapter must change more than the export error"


@pytest.mark.slow
@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_qlora_run_resumes_after_sigkill_to_the_same_losses(
    arch: str, qlora_run: Callable[[str], tuple[Path, Path]], tmp_path: Path
) -> None:
    recipe, uninterrupted = qlora_run(arch)
    run = tmp_path / "killed"
    cmd = [sys.executable, "-m", "medtrain", "train", str(recipe), "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (run / "checkpoints" / "checkpoint-2" / "trainer_state.json").is_file():
        assert proc.poll() is None and time.monotonic() < deadline, "ended before a checkpoint"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (run / "trainer_stats.json").exists()
    subprocess.run([*cmd, "--resume"], check=True, stderr=subprocess.DEVNULL)
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert stats["global_step"] == STEPS and stats["resumed_from"].startswith("checkpoint-")
    assert losses(run) == pytest.approx(losses(uninterrupted), rel=1e-4)


def test_unsloth_backend_refuses_4bit_on_the_cpu(
    monkeypatch: pytest.MonkeyPatch, tiny_model: Path
) -> None:
    """unsloth's 4-bit path is only run on CUDA here: on the CPU it names the hf backend before
    unsloth loads anything (a stand-in module: unsloth has its own test environment)."""
    import types

    from medtrain.backends import unsloth as backend
    from medtrain.errors import UserError

    monkeypatch.setitem(sys.modules, "unsloth", types.SimpleNamespace(FastLanguageModel=None))
    recipe = load_recipe("smollm2-cpu-qlora", [f"model.base={tiny_model}"])
    with pytest.raises(UserError, match=r"--set training\.backend=hf"):
        backend.load(recipe)
