"""`medtrain publish`: a run's LoRA adapter, tokenizer and model card to a Hub model repo.

The repo holds the adapter folder's files at its root (so `PeftModel.from_pretrained(repo)` and
`AutoTokenizer.from_pretrained(repo)` work), the card, the training record under `training/`,
and, when medeval has written a report, the loss plot and the evaluation results.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from medtrain.card import CardFacts, inherited_license, render_card
from medtrain.chat import OFFICIAL_TEMPLATES
from medtrain.config import OutputConfig, RecipeConfig, to_dict
from medtrain.errors import UserError
from medtrain.hubsync import Content, HubError, Publisher, find_token, require_token
from medtrain.locations import is_hub_id
from medtrain.runs import read_config

TRAINING_FILES = ("trainer_stats.json", "loss.csv", "environment.json")
"""Run files published under `training/` when present (config.yaml is published cleaned)."""

EVAL_FILES = ("eval/metrics.json", "eval/benchmarks.json", "report.md")
"""Published when the run has a report (medeval's); the loss plot whenever it exists."""


def _bad_run(run: Path, problem: str) -> HubError:
    return HubError(f"{run}: {problem}", 2)


def card_facts(
    run: Path,
    repo_id: str,
    recipe: RecipeConfig,
    base_model: str | None,
    dataset: str | None,
    license_id: str | None,
) -> CardFacts:
    """Base model, dataset id and license from the run's recipe, unless given explicitly."""
    base = base_model or recipe.model.base
    if not is_hub_id(base):
        raise _bad_run(run, f"model.base {base!r} is not a Hub model id; pass --base-model NS/NAME")
    data = dataset or recipe.data.dataset
    if not is_hub_id(data):  # a local variant folder: published under the adapter's namespace
        data = f"{repo_id.split('/')[0]}/{Path(data).name}"
    license_id = license_id or inherited_license(base)
    if license_id is None:
        raise _bad_run(run, f"no known license for base model {base}; pass --license ID")
    return CardFacts(base, data, license_id, repo_id, published_config(recipe, base, data))


def published_config(recipe: RecipeConfig, base: str, dataset: str) -> str:
    """config.yaml as the repo shows it: Hub ids instead of this machine's paths (no cache
    folder, no dataset folder, no run root), and the template the published tokenizer holds."""
    clean = copy.deepcopy(recipe)
    clean.model.base, clean.model.resolved_path, clean.data.dataset = base, None, dataset
    if clean.model.chat_template not in ("tokenizer", *OFFICIAL_TEMPLATES):
        clean.model.chat_template = "tokenizer"  # the adapter's tokenizer carries it
    clean.output = OutputConfig()
    return yaml.safe_dump(to_dict(clean), sort_keys=False)


def repo_files(run: Path, recipe: RecipeConfig, facts: CardFacts) -> dict[str, Content]:
    """Every file of the model repo, by its path in the repo."""
    adapter = run / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise _bad_run(run, "no adapter/adapter_config.json: training did not finish")
    files: dict[str, Content] = {
        p.relative_to(adapter).as_posix(): p
        for p in sorted(adapter.rglob("*"))
        if p.is_file() and p.name != "README.md"  # peft's placeholder card; ours replaces it
    }
    files["training/config.yaml"] = facts.config_yaml.encode()
    files.update({f"training/{n}": run / n for n in TRAINING_FILES if (run / n).is_file()})
    if (run / "eval/loss.png").is_file():
        files["loss.png"] = run / "eval/loss.png"
    if (run / "report.md").is_file():
        files.update({n: run / n for n in EVAL_FILES if (run / n).is_file()})
    stats_file = run / "trainer_stats.json"
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.is_file() else None
    files["README.md"] = render_card(run, recipe, facts, stats).encode()
    return files


def publish(
    run: Annotated[Path, typer.Argument(help="Run folder (artifacts/runs/<recipe>-<timestamp>).")],
    repo: Annotated[str, typer.Option(help="Hub model repo to publish to, NAMESPACE/NAME.")],
    private: Annotated[bool, typer.Option(help="Create the repo as private.")] = False,
    base_model: Annotated[
        str | None, typer.Option(help="Hub id of the base model; default: model.base of the run.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="Hub id of the training dataset; default: NAMESPACE/<data.dataset name>."
        ),
    ] = None,
    license_id: Annotated[
        str | None,
        typer.Option("--license", help="Hub license id; default: inherited from the base model."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            help="Push nothing: write the repo folder and print what would change "
            "(works offline and without a token)."
        ),
    ] = False,
    dry_run_dir: Annotated[
        Path, typer.Option(help="Where --dry-run writes the repo folder.")
    ] = Path("artifacts/publish"),
) -> None:
    """Publish a run's adapter, tokenizer and model card to a Hugging Face Hub model repo.

    Needs a Hub token (HF_TOKEN or `hf auth login`), except with --dry-run. Publishing unchanged
    content makes no commit; changed content makes one commit whose message lists the files
    that changed.
    """
    try:
        token = find_token() if dry_run else require_token()
        if not is_hub_id(repo):
            raise HubError(f"--repo {repo!r} is not NAMESPACE/NAME", 2)
        try:
            recipe = read_config(run)
        except UserError as err:
            raise HubError(f"{err}; pass a run folder written by `medtrain train`", 2) from err
        facts = card_facts(run, repo, recipe, base_model, dataset, license_id)
        files = repo_files(run, recipe, facts)
        publisher = Publisher(token)
        if dry_run:
            result = publisher.dry_run(repo, "model", files, dry_run_dir)
        else:
            result = publisher.publish(repo, "model", files, private)
        typer.echo(result.describe())
    except HubError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
