"""Benchmark: the full dataset build (all 16 variants from raw) vs the upstream approach.

Both run in this process on the same raw files, cold (nothing cached), `repeats` times each;
the best time of each is compared. The fastest meddata run's time per build stage (from the
build's own progress callback) says where the time goes; a build without the content rules and
the benchmark check says what they cost, and rendering the clean rows with a chat template (Qwen2.5)
what a template family costs. Writes artifacts/bench/data.json.
Run: `nox -s bench` (all benchmarks) or `python benchmarks/data.py`.
"""

from __future__ import annotations

import json
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import upstream_data

from meddata.build import BuildConfig, build, prepare_rows, read_and_clean
from meddata.clean import QUALITY_RULES, CleanConfig
from meddata.families import template_format
from meddata.variants import expand

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
TARGET = 20.0


def best_of(repeats: int, run: Callable[[Path], object]) -> float:
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            run(Path(tmp))
            times.append(time.perf_counter() - start)
    return min(times)


def timed_build(quality: bool = True) -> tuple[float, dict[str, float]]:
    """One full build: total seconds and seconds per stage (the variant writes summed).
    `quality=False` skips the content rules and the benchmark check (what they cost)."""
    marks: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        config = BuildConfig(
            raw_dir=RAW,
            out_dir=Path(tmp) / "processed",
            clean_dir=Path(tmp) / "clean",
            eval_dir=ROOT / "data" / "eval" if quality else None,
            cleaning=CleanConfig() if quality else CleanConfig(skip_rules=QUALITY_RULES),
        )
        variants = expand(config.data)
        build(list(variants.values()), config, lambda s: marks.append((s, time.perf_counter())))
        end = time.perf_counter()
    stages: dict[str, float] = {}
    for (stage, begin), (_, stop) in zip(marks, [*marks[1:], ("end", end)], strict=True):
        name = "writing variants" if stage.removeprefix("writing ") in variants else stage
        stages[name] = stages.get(name, 0.0) + stop - begin
    return end - start, {name: round(seconds, 3) for name, seconds in stages.items()}


def template_rendering(repeats: int) -> tuple[int, float]:
    """Clean rows and the best seconds to render them with a template family (Qwen2.5's)."""
    config = BuildConfig(raw_dir=RAW, eval_dir=None)
    rows = prepare_rows(read_and_clean(config, lambda _: None), config)
    qwen = template_format("qwen", ROOT / "data" / "templates" / "Qwen_Qwen2.5-7B-Instruct.jinja")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        qwen.render_rows(rows)
        times.append(time.perf_counter() - start)
    return rows.height, min(times)


def main(repeats: int = 3) -> dict[str, object]:
    ours, stages = min((timed_build() for _ in range(repeats)), key=lambda run: run[0])
    upstream = best_of(repeats, lambda tmp: upstream_data.build_all(RAW, tmp))
    rendered, render_s = template_rendering(repeats)
    plain, plain_stages = min((timed_build(False) for _ in range(repeats)), key=lambda r: r[0])
    result = {
        "benchmark": "dataset build, all 16 variants from raw (12 upstream + 4 llama3)",
        "meddata_s": round(ours, 3),
        "meddata_stages_s": stages,
        "without_content_rules_and_benchmark_check_s": round(plain, 3),
        "without_content_rules_and_benchmark_check_stages_s": plain_stages,
        "template_family_rows": rendered,
        "template_family_render_s": round(render_s, 3),
        "upstream_approach_s": round(upstream, 3),
        "speedup": round(upstream / ours, 2),
        "target_speedup": TARGET,
        "met": upstream / ours >= TARGET,
        "repeats": repeats,
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    out = ROOT / "artifacts" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "data.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
