"""The options the `medeval` commands share: type, flag and help text (the help is `--help`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
BatchOpt = Annotated[int, typer.Option("--batch-size", help="Prompts per forward pass.")]
MaxNewOpt = Annotated[int, typer.Option("--max-new-tokens", help="Answer length cap in tokens.")]
TempOpt = Annotated[float, typer.Option("--temperature", help="0 = greedy; above 0 samples.")]
TopPOpt = Annotated[float, typer.Option("--top-p", help="Nucleus mass when sampling.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed for subsets and sampling.")]
NoRepeatOpt = Annotated[
    int,
    typer.Option(
        "--no-repeat-ngram",
        help="Never repeat any N tokens of an answer (0: off). Small models decoded greedily loop; "
        "the prompt's words stay allowed.",
    ),
]
EndOpt = Annotated[
    bool,
    typer.Option(
        "--end-when-likely/--end-greedy",
        help="Greedy decoding: end an answer only where the model gives ending probability above "
        "1/2 (default), or wherever end-of-turn is the single likeliest token (plain greedy, "
        "which cuts a fine-tuned model's answers short).",
    ),
]
