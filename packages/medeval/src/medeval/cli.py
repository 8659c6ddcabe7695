"""`medeval`: evaluate a training run folder (plots, samples, metrics, benchmarks, report)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from medeval.benchmarks_cli import bench_target
from medeval.benchmarks_run import load_tasks, run_tasks, write_benchmarks
from medeval.cli_options import (
    CompareOpt,
    DataOpt,
    LimitBenchOpt,
    LimitSamplesOpt,
    RunArg,
    SeedOpt,
    TasksOpt,
    decoding_options,
)
from medeval.compared import MODELS
from medeval.errors import EvalInputError
from medeval.evaluation import (
    compute_metrics,
    generate_samples,
    read_samples,
    write_json,
    write_loss_plots,
    write_samples,
)
from medeval.generation import GenerationSettings
from medeval.plots import overlay_figure, read_loss_csv, save_figure
from medeval.report import write_report
from medeval.runs import Run, load_run
from medeval.tasks import resolve
from medeval.testset import load_examples

app = typer.Typer(
    help="Evaluate a training run folder (artifacts/runs/<recipe>-<timestamp>/): writes "
    "<run>/eval/ and report.md / report.html. See docs/schemas.md §3-4.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True)
T = TypeVar("T")


@app.callback()
def _options(
    threads: Annotated[
        int,
        typer.Option(
            "--threads",
            help="CPU threads for torch (0 = torch's default, one per core). On a CPU shared "
            "with other jobs 1 can be several times faster.",
        ),
    ] = 0,
) -> None:
    """Options that apply to every command (put them before the command name)."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)


def _guard(work: Callable[[], T]) -> T:
    """Input errors become one line on stderr and exit code 2, never a traceback."""
    try:
        return work()
    except EvalInputError as err:
        console.print(f"[red]error:[/red] {escape(str(err))}", soft_wrap=True)
        raise typer.Exit(2) from None


def _model_and_tokenizer(run: Run) -> tuple[Any, Any]:
    from medeval.models import load_model, load_tokenizer

    with console.status(f"loading {run.model_path} + adapter"):
        return load_model(run), load_tokenizer(run)


@app.command()
def plot(run_dir: RunArg, compare: CompareOpt = None) -> None:
    """Loss curve of a run (raw + smoothed) and, with --compare, the overlay of several runs."""
    paths = _guard(
        lambda: write_loss_plots(load_run(run_dir), [load_run(c) for c in compare or []])
    )
    console.print("wrote " + ", ".join(map(str, paths)))


@app.command("plot-csv")
def plot_csv(
    csvs: Annotated[
        list[Path], typer.Argument(help="loss CSVs (`step,loss` or upstream `Step,Loss`).")
    ],
    out: Annotated[Path, typer.Option("--out", help="Output path without suffix (.png and .svg).")],
) -> None:
    """Overlay loss CSVs, e.g. the upstream project's per-model `Step,Loss` files (all_models)."""
    paths = _guard(lambda: save_figure(overlay_figure([read_loss_csv(c) for c in csvs]), out))
    console.print("wrote " + ", ".join(map(str, paths)))


@app.command()
@decoding_options()
def samples(
    run_dir: RunArg, settings: GenerationSettings, limit_samples: LimitSamplesOpt = 20
) -> None:
    """Base vs fine-tuned answers to held-out questions: eval/samples.jsonl and samples.md
    (decoding settings in eval/generation.json)."""

    def work() -> None:
        run = load_run(run_dir)
        examples = load_examples(run.dataset, run.test_split, limit_samples)
        model, tokenizer = _model_and_tokenizer(run)
        write_samples(run, generate_samples(model, tokenizer, examples, settings), settings)

    _guard(work)


@app.command()
def metrics(run_dir: RunArg) -> None:
    """eval/metrics.json: the held-out answer loss medtrain wrote (answer_loss.jsonl) and
    ROUGE-L / token F1 of eval/samples.jsonl. Needs no model."""

    def work() -> None:
        run = load_run(run_dir)
        write_json(run.eval_dir / "metrics.json", compute_metrics(run, read_samples(run)))

    _guard(work)


@app.command()
def bench(
    target: Annotated[
        str,
        typer.Argument(
            help="A run folder (config.yaml from `medtrain train`: its base model and adapter, "
            "written to RUN/eval/), or a model: Hub id, model folder or .gguf file."
        ),
    ],
    adapter: Annotated[
        Path | None,
        typer.Option("--adapter", help="With a model: a run folder or LoRA adapter folder."),
    ] = None,
    task: TasksOpt = None,
    limit: LimitBenchOpt = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output folder (default: RUN/eval, or artifacts/eval/<model>)."),
    ] = None,
    eval_data: DataOpt = Path("data/eval"),
    batch_size: Annotated[
        int, typer.Option("--batch-size", help="Most inputs per forward pass.")
    ] = 64,
    seed: SeedOpt = 0,
) -> None:
    """Zero-shot benchmark accuracy by option log-likelihood (lm-evaluation-harness protocol):
    benchmarks.json and benchmarks/<task>.jsonl (one line per item). A run gives its base and
    fine-tuned model; a model gives `base` alone, or also `finetuned` with --adapter."""

    def work() -> None:
        chosen = bench_target(target, adapter, out)
        tasks = load_tasks(eval_data, resolve(task), limit, seed)
        with console.status(f"loading {chosen.model_path}"):
            model, tokenizer = chosen.load()
        results = run_tasks(model, tokenizer, tasks, chosen.models, batch_size)
        paths = write_benchmarks(chosen.out_dir, tasks, results)
        console.print(f"wrote {paths[0]} and {len(paths) - 1} per-item files")

    _guard(work)


@app.command()
def report(run_dir: RunArg, compare: CompareOpt = None) -> None:
    """report.md and self-contained report.html in the run folder, from what eval/ holds."""
    paths = _guard(lambda: write_report(load_run(run_dir), [load_run(c) for c in compare or []]))
    console.print("wrote " + ", ".join(map(str, paths)))


@app.command()
@decoding_options()
def evaluate(
    run_dir: RunArg,
    settings: GenerationSettings,
    compare: CompareOpt = None,
    limit_samples: LimitSamplesOpt = 20,
    limit_bench: LimitBenchOpt = None,
    task: TasksOpt = None,
    eval_data: DataOpt = Path("data/eval"),
) -> None:
    """Everything: loss plots, samples, metrics, benchmarks, then the report."""

    def work() -> None:
        start = time.perf_counter()
        run = load_run(run_dir)
        others = [load_run(c) for c in compare or []]
        tasks = load_tasks(eval_data, resolve(task), limit_bench, settings.seed)
        sample_examples = load_examples(run.dataset, run.test_split, limit_samples)
        console.rule(f"[bold]evaluate {run.name}")
        write_loss_plots(run, others)
        model, tokenizer = _model_and_tokenizer(run)
        samples = generate_samples(model, tokenizer, sample_examples, settings)
        write_samples(run, samples, settings)
        write_json(run.eval_dir / "metrics.json", compute_metrics(run, samples))
        write_benchmarks(run.eval_dir, tasks, run_tasks(model, tokenizer, tasks, MODELS))
        paths = write_report(run, others)
        console.print(f"wrote {paths[0]} and {paths[1]} in {time.perf_counter() - start:.0f} s")

    _guard(work)


@app.command()
@decoding_options(omit=("batch_size",), max_new_tokens=256)
def chat(
    run_dir: RunArg,
    settings: GenerationSettings,
    host: Annotated[
        str,
        typer.Option(
            "--host", help="Address the page listens on; 0.0.0.0 opens it to your network."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port of the page (0: any free one).")] = 7860,
    cli: Annotated[bool, typer.Option("--cli", help="Chat in this terminal, no web page.")] = False,
    examples: Annotated[
        int, typer.Option("--examples", help="Held-out questions shown as examples.")
    ] = 6,
    system: Annotated[
        str | None,
        typer.Option("--system", help="System instruction (default: the held-out split's)."),
    ] = None,
) -> None:
    """Ask the base and the fine-tuned model side by side, streamed: a local web page
    (needs medeval[chat]) or, with --cli, the terminal. Settings can be changed on the page."""

    def work() -> None:
        from medeval.chat_ui_run import summarize
        from medeval.chat_ui_stream import PairChat

        run = load_run(run_dir)
        summary = summarize(run, examples, system)
        if cli:
            from medeval.chat_ui_terminal import chat_in_terminal

            pair = PairChat(*_model_and_tokenizer(run))
            chat_in_terminal(summary, pair, settings, Console())
            return
        from medeval.chat_ui_page import serve

        serve(summary, lambda: PairChat(*_model_and_tokenizer(run)), settings, host, port, console)

    _guard(work)


def main() -> None:
    """Console-script entry point."""
    app(sys.argv[1:])
