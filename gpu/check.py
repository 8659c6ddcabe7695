"""GPU acceptance: the 7B recipes train and export on a CUDA GPU, with throughput and memory.

    python gpu/check.py [--site gpu-box/site]        # on a GPU box, nothing installed
    nox -s gpu_check                                  # on a GPU machine with a package index
    python gpu/check.py --tiny                        # the same code path on the CPU, tiny models

For `mistral`, `llama` and `gemma`, each backend (hf, unsloth) trains 20 optimizer steps of the
recipe's own settings (4-bit NF4, LoRA r 16 on all linear layers, batch 2 x 4, adamw_8bit,
gradient checkpointing) through `medtrain.trainer.train`, then the hf run is exported with
`medtrain.export.export_merged` (the 4-bit base dequantized, the adapter merged, 16-bit saved).
Weights: the real checkpoints where the Hub is reachable, else random ones at the real full size
(medtrain's shipped config.json; saved to tmpfs where there is one). Data: random ids, the last
3/4 of each row labelled (no `datasets`, no built variant). Writes artifacts/bench/gpu.json after
each model: tokens/s, peak VRAM, first/last loss, wall times, the plan's estimate beside the
measured peak, and the unsloth/hf tokens/s ratio; each child process's log beside it.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MODELS = ("mistral", "llama", "gemma")
BACKENDS = ("hf", "unsloth")
BUDGET_S = 600
"""The check must finish within 10 minutes on one current datacenter GPU."""
NO_CUDA = (
    "gpu_check needs a CUDA GPU, and torch {torch} (CUDA build: {cuda}) sees none. "
    "On a CPU, `python gpu/check.py --tiny` runs the same code path on tiny models."
)


def use_paths(site: Path | None) -> None:
    """The slimmed install folder (gpu/box.py) first, then this repository's own packages."""
    paths = [REPO / "packages" / "medtrain" / "src", REPO]
    sys.path[:0] = [str(p) for p in ([site] if site else []) + paths]


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--site", type=Path, help="slimmed install folder made by gpu/box.py")
    p.add_argument("--tiny", action="store_true", help="tiny random models on the CPU (no CUDA)")
    p.add_argument("--models", default=",".join(MODELS), help="recipes (comma-separated)")
    p.add_argument("--backends", default=",".join(BACKENDS), help="backends (comma-separated)")
    p.add_argument("--steps", type=int, default=20, help="optimizer steps per run")
    p.add_argument("--seq", type=int, default=512, help="tokens per training row")
    p.add_argument("--out", type=Path, default=REPO / "artifacts" / "bench" / "gpu.json")
    p.add_argument("--scratch", type=Path, help="where bases and runs go (default: tmpfs)")
    p.add_argument("--child", choices=BACKENDS, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def scratch_root(chosen: Path | None) -> Path:
    shm = Path("/dev/shm")
    free = shutil.disk_usage(shm).free if shm.is_dir() else 0
    parent = chosen or (shm if free > 60e9 else Path(tempfile.gettempdir()))
    return Path(tempfile.mkdtemp(prefix="gpu_check-", dir=parent))


def standin_tokenizer(recipe_name: str) -> Any:
    """A byte-level tokenizer with the family's special tokens at their real ids (the real one
    needs the Hub; random ids are the data, so only the special ids and template matter)."""
    from testsupport.tokenizers import gemma_standin_tokenizer, llama_standin_tokenizer

    return gemma_standin_tokenizer() if recipe_name == "gemma" else llama_standin_tokenizer()


def random_base(recipe_name: str, folder: Path, tiny: bool) -> Path:
    """Random weights of the recipe's architecture, full size in bf16 on the GPU (tiny on CPU)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    from medtrain.plan_shapes import model_config
    from medtrain.recipes import load_recipe

    cfg, _ = model_config(load_recipe(recipe_name).model)
    if tiny:
        small = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2}
        heads = {"head_dim": 16, "num_attention_heads": 4, "num_key_value_heads": 2}
        cfg = {**cfg, **small, **heads, "vocab_size": min(cfg["vocab_size"], 32000)}
    device = "cpu" if tiny else "cuda"
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(
            AutoConfig.for_model(**cfg), dtype=torch.float32 if tiny else torch.bfloat16
        )
    model.save_pretrained(folder)
    standin_tokenizer(recipe_name).save_pretrained(folder)
    return folder


def random_rows(n: int, seq: int, vocab: int, seed: int) -> list[dict[str, Any]]:
    """Rows of random ids (above the special ids); the last 3/4 of each row is trained on."""
    import torch

    from medtrain.data import IGNORE

    g = torch.Generator().manual_seed(seed)
    rows = []
    for _ in range(n):
        ids = torch.randint(10, min(vocab, 32000), (seq,), generator=g).tolist()
        labels = [IGNORE] * (seq // 4) + ids[seq // 4 :]
        rows.append({"input_ids": ids, "labels": labels, "length": seq})
    return rows


def free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def train_one(name: str, base: str, backend: str, args: argparse.Namespace, root: Path) -> dict:
    """One 20-step run through medtrain's trainer; its numbers, with the plan's estimate."""
    import torch

    from medtrain.data import Prepared
    from medtrain.plan import build_plan, this_device
    from medtrain.plan_memory import GB
    from medtrain.recipes import load_recipe
    from medtrain.trainer import train

    sets = [
        f"model.base={base}", f"model.max_seq_length={args.seq}", f"training.backend={backend}",
        f"training.max_steps={args.steps}", "training.save_steps=100000",
        f"output.root={root / 'runs'}", f"data.dataset={root / 'no-dataset'}",
    ]  # fmt: skip
    if backend == "unsloth" and not torch.cuda.is_available():  # --tiny on a CPU
        sets.append("model.load_in_4bit=false")  # unsloth's 4-bit path is CUDA-only here
    recipe = load_recipe(name, sets)
    t = recipe.training
    n = args.steps * t.per_device_train_batch_size * t.gradient_accumulation_steps
    plan = build_plan(recipe, this_device(), tokenize=False)
    vocab = plan.shape.vocab
    data = (
        Prepared(random_rows(n, args.seq, vocab, seed=0), 0),
        Prepared(random_rows(2, args.seq, vocab, seed=1), 0),
    )
    free_memory()
    start = time.perf_counter()
    run = train(recipe, run=root / "runs" / f"{name}-{backend}", force=args.tiny, data=data)
    wall = time.perf_counter() - start
    stats = json.loads((run / "trainer_stats.json").read_text())
    with (run / "loss.csv").open() as f:
        curve = [float(r["loss"]) for r in csv.DictReader(f)]
    cuda = torch.cuda.is_available()
    return {
        "model": name,
        "backend": backend,
        "run": str(run),
        "steps": stats["global_step"],
        "tokens_per_s": stats["tokens_per_second"],
        "train_s": stats["runtime_s"],
        "wall_s": round(wall, 1),
        "peak_vram_gb": round(torch.cuda.max_memory_allocated() / GB, 2) if cuda else None,
        "peak_reserved_gb": round(torch.cuda.max_memory_reserved() / GB, 2) if cuda else None,
        "plan_peak_gb": round(plan.memory.total / GB, 2),
        "first_loss": curve[0],
        "last_loss": curve[-1],
    }


def export_one(run: str) -> dict:
    from medtrain.export import export_merged

    free_memory()
    start = time.perf_counter()
    out = export_merged(Path(run))
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    shutil.rmtree(out)
    return {"run": run, "wall_s": round(time.perf_counter() - start, 1), "size_gb": size / 1e9}


def child(args: argparse.Namespace, hub: bool) -> dict:
    """One model with one backend, in a process of its own (unsloth patches transformers when
    imported, and each run's peak memory is its own): the base if missing, the training run,
    and for hf the merged export."""
    from medtrain.recipes import load_recipe

    name, backend, root = args.models, args.child, args.scratch
    folder = root / "bases" / name
    if args.tiny or not hub:
        start = time.perf_counter()
        if not (folder / "config.json").is_file():
            random_base(name, folder, args.tiny)
        made = round(time.perf_counter() - start, 1)
        base = str(folder)
    else:
        base, made = load_recipe(name).model.base, 0.0
    result = {**train_one(name, base, backend, args, root), "base_s": made}
    if backend == "hf":
        try:
            result["export"] = export_one(result["run"])
        except Exception as err:  # the training numbers still count
            result["export"] = {"error": f"{type(err).__name__}: {err}"}
    return result


def check_model(name: str, args: argparse.Namespace, root: Path) -> dict:
    """Each backend's child process for one model (its log beside --out); then the base goes."""
    runs, start = [], time.perf_counter()
    for backend in args.backends.split(","):
        cmd = [
            sys.executable, __file__, "--child", backend, "--models", name, "--scratch", str(root),
            "--steps", str(args.steps), "--seq", str(args.seq), *(["--tiny"] if args.tiny else []),
            *(["--site", str(args.site)] if args.site else []),
        ]  # fmt: skip
        log = args.out.with_name(f"gpu-{name}-{backend}.log")
        began = time.perf_counter()
        with log.open("w") as err:
            got = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, check=False)
        lines = got.stdout.strip().splitlines()
        if got.returncode == 0 and lines:
            runs.append(
                {**json.loads(lines[-1]), "process_s": round(time.perf_counter() - began, 1)}
            )
        else:
            tail = log.read_text().strip().splitlines()[-1:] or [""]
            runs.append({"model": name, "backend": backend, "error": tail[0], "log": str(log)})
        print(
            f"gpu_check: {name}/{backend}: {'failed' if 'error' in runs[-1] else 'ok'}", flush=True
        )
    shutil.rmtree(root / "bases" / name, ignore_errors=True)
    by = {r["backend"]: r["tokens_per_s"] for r in runs if "error" not in r}
    both = {"hf", "unsloth"} <= set(by)
    ratio = round(by["unsloth"] / by["hf"], 3) if both else None
    wall = round(time.perf_counter() - start, 1)
    return {"model": name, "runs": runs, "unsloth_over_hf": ratio, "wall_s": wall}


def environment(hub: bool, args: argparse.Namespace) -> dict:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "weights": "tiny random" if args.tiny else ("hub" if hub else "random, full size"),
        "steps": args.steps,
        "tokens_per_row": args.seq,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    use_paths(args.site)
    import torch

    if not args.tiny and not torch.cuda.is_available():
        print(NO_CUDA.format(torch=torch.__version__, cuda=torch.version.cuda), file=sys.stderr)
        return 2
    from medtrain.models import hub_reachable

    hub = hub_reachable()
    if not hub:
        os.environ["HF_HUB_OFFLINE"] = "1"
    if args.child:
        if args.child == "unsloth":
            import unsloth  # noqa: F401  (first: it patches transformers as it is imported)
        print(json.dumps(child(args, hub)), flush=True)
        return 0
    start = time.perf_counter()
    root = scratch_root(args.scratch)
    report: dict[str, Any] = {**environment(hub, args), "budget_s": BUDGET_S, "models": []}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    try:
        for name in args.models.split(","):
            report["models"].append(check_model(name, args, root))
            report["wall_s"] = round(time.perf_counter() - start, 1)
            report["within_budget"] = report["wall_s"] <= BUDGET_S
            args.out.write_text(json.dumps(report, indent=2) + "\n")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    failed = [
        f"{r['model']}/{r['backend']}"
        for m in report["models"]
        for r in m["runs"]
        if "error" in r or "error" in r.get("export", {})
    ]
    print(f"gpu_check: {report['wall_s']} s; failed: {failed or 'none'}; {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
