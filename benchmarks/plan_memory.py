"""`medtrain plan`'s memory estimate against peak memory measured on CPU training steps.

    python benchmarks/plan_memory.py        # writes artifacts/bench/plan_memory.json

Each case trains 3 optimizer steps in its own process on the micro-batch the plan sizes (its
batch x its longest-row tokens, random ids, every token labelled) and records the peak resident
size. glibc is told to map every allocation over 64 KiB on its own
(MALLOC_MMAP_THRESHOLD_=65536), so freed tensors leave the resident size at once and the peak
RSS is the peak of live memory, not of the allocator's cache. Cases: a tiny random Mistral and
SmolLM2-135M-Instruct, each in fp32 LoRA and in 4-bit NF4 (bitsandbytes' CPU backend, 8-bit
AdamW, gradient checkpointing), plus the process before any model (the plan's CPU runtime term).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

OUT = Path("artifacts/bench/plan_memory.json")
QLORA = [
    "model.load_in_4bit=true",
    "training.optim=adamw_8bit",
    "training.gradient_checkpointing=true",
]
CASES: dict[str, tuple[str, list[str]]] = {
    "tiny-fp32": ("tiny", []),
    "tiny-4bit": ("tiny", QLORA),
    "smollm2-fp32": ("smollm2-cpu", ["model.max_seq_length=256"]),
    "smollm2-4bit": (
        "smollm2-cpu",
        [*QLORA, "data.packing=false", "training.per_device_train_batch_size=4"],
    ),
}
"""Case -> (recipe, --set overrides)."""


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def tiny_recipe(folder: Path) -> str:
    from testsupport.recipes import write_recipe
    from testsupport.tiny import tiny_model_dir
    from testsupport.variants import write_family_variant

    model = tiny_model_dir(folder / "model")
    variant = write_family_variant(folder / "variant", "mistral")
    return str(write_recipe(folder / "tiny.yaml", model, variant, folder / "runs"))


def load(recipe: Any) -> Any:
    """The LoRA model exactly as the transformers backend builds it for training."""
    from medtrain.backends.hf import load as load_for_training

    model = load_for_training(recipe).model
    if recipe.training.gradient_checkpointing and not recipe.model.load_in_4bit:
        model.gradient_checkpointing_enable({"use_reentrant": False})  # the Trainer's part
    return model


def worker(name: str, scratch: Path) -> dict[str, Any]:
    import torch

    from medtrain.plan import build_plan, cpu_device
    from medtrain.recipes import load_recipe

    torch.set_num_threads(1)
    recipe_name, sets = CASES[name]
    source = tiny_recipe(scratch) if recipe_name == "tiny" else recipe_name
    recipe = load_recipe(source, sets)
    plan = build_plan(recipe, cpu_device())
    before = rss_gb()
    model = load(recipe)
    params = [p for p in model.parameters() if p.requires_grad]
    if "8bit" in recipe.training.optim:
        import bitsandbytes as bnb

        optimizer: Any = bnb.optim.AdamW8bit(params, lr=1e-4)
    else:
        optimizer = torch.optim.AdamW(params, lr=1e-4)
    s = plan.setup
    ids = torch.randint(0, plan.shape.vocab, (s.batch, s.seq))
    model.train()
    for _ in range(3):
        model(input_ids=ids, labels=ids).loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    measured = rss_gb()
    estimate = plan.memory.total / 1e9
    return {
        "case": name,
        "micro_batch": [s.batch, s.seq],
        "plan_gb": round(estimate, 3),
        "plan_terms_gb": {k: round(v / 1e9, 3) for k, v in vars(plan.memory).items()},
        "measured_peak_rss_gb": round(measured, 3),
        "rss_before_model_gb": round(before, 3),
        "error": round(estimate / measured - 1, 3),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        with tempfile.TemporaryDirectory() as scratch:
            print(json.dumps(worker(sys.argv[2], Path(scratch))))
        return
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "OMP_NUM_THREADS": "1"}
    env.setdefault("HF_HUB_OFFLINE", "1")
    results = []
    for name in CASES:
        got = subprocess.run(
            [sys.executable, __file__, "--worker", name],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        results.append(json.loads(got.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1]))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"cases": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
