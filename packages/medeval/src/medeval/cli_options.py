"""The options the `medeval` commands share: type, flag and help text (the help is `--help`)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any

import typer

from medeval.errors import EvalInputError
from medeval.generation import NO_REPEAT_NGRAM, GenerationSettings
from medeval.tasks import groups, suite

RunArg = Annotated[Path, typer.Argument(help="Run folder written by `medtrain train`.")]
CompareOpt = Annotated[
    list[Path] | None,
    typer.Option("--compare", help="Other run folders to overlay/compare (repeat)."),
]
LimitSamplesOpt = Annotated[
    int, typer.Option("--limit-samples", help="Held-out questions to answer (first by id hash).")
]
LimitBenchOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "--limit-bench",
        help="Questions per benchmark task, stratified by label (default: all).",
    ),
]
TasksOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--task",
        help=f"Benchmark task (repeat): {', '.join([*suite(), *groups()])}, or a .jsonl file "
        "of {question, options, answer_idx} lines. Default: the 9 leaderboard tasks.",
    ),
]
DataOpt = Annotated[
    Path, typer.Option("--eval-data", help="Folder with the benchmark files (data/eval).")
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for the benchmark subsets (--limit).")]

DECODING: dict[str, Any] = {
    "max_new_tokens": Annotated[
        int, typer.Option("--max-new-tokens", help="Answer length cap in tokens.")
    ],
    "temperature": Annotated[
        float, typer.Option("--temperature", help="0 = greedy; above 0 samples.")
    ],
    "top_p": Annotated[float, typer.Option("--top-p", help="Nucleus mass when sampling.")],
    "batch_size": Annotated[int, typer.Option("--batch-size", help="Prompts decoded together.")],
    "seed": Annotated[
        int,
        typer.Option("--seed", help="Seed for sampling (evaluate: also the benchmark subsets)."),
    ],
    "no_repeat_ngram": Annotated[
        int,
        typer.Option(
            "--no-repeat-ngram",
            help="Never repeat any N tokens of an answer (0: off). Small models decoded greedily "
            "loop; the prompt's words stay allowed.",
        ),
    ],
    "end_when_likely": Annotated[
        bool,
        typer.Option(
            "--end-when-likely/--end-greedy",
            help="Greedy decoding: end an answer only where the model gives ending probability "
            "above 1/2 (default), or wherever end-of-turn is the single likeliest token (plain "
            "greedy, which cuts a fine-tuned model's answers short).",
        ),
    ],
}
"""The flag of each GenerationSettings field (a test keeps the two in step)."""

CLI_DEFAULTS: dict[str, Any] = {"no_repeat_ngram": NO_REPEAT_NGRAM, "end_when_likely": True}
"""Where the commands' defaults differ from GenerationSettings' (which keeps the plain decoder)."""


def decoding_options(
    omit: tuple[str, ...] = (), **defaults: Any
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Give a command one flag per GenerationSettings field (less `omit`, with its own `defaults`)
    and call it with those flags as one `settings` argument, so the decoding flags, their help
    and their checks are written once for `samples`, `evaluate` and `chat`."""
    names = [f.name for f in fields(GenerationSettings) if f.name not in omit]
    chosen = {f.name: f.default for f in fields(GenerationSettings)} | CLI_DEFAULTS | defaults

    def wrap(command: Callable[..., None]) -> Callable[..., None]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "settings"]
        added = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=chosen[name],
                annotation=DECODING[name],
            )
            for name in names
        ]

        @functools.wraps(command)
        def run(**options: Any) -> None:
            try:
                settings = GenerationSettings(**{name: options.pop(name) for name in names})
            except EvalInputError as err:
                raise typer.BadParameter(str(err)) from None
            command(**options, settings=settings)

        run.__signature__ = inspect.Signature([*own, *added])  # type: ignore[attr-defined]
        return run

    return wrap
