"""`medtrain publish`: a run's LoRA adapter, tokenizer and model card to a Hub model repo.

The repo holds the adapter folder's files at its root (so `PeftModel.from_pretrained(repo)` and
`AutoTokenizer.from_pretrained(repo)` work), the card, the training record under `training/`,
and, when medeval has written a report, the loss plot and the evaluation results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from meddata.hub import (
    REPO_ID,
    Content,
    HubError,
    Publisher,
    check_card,
    require_token,
)

LICENSE_BY_BASE = (
    ("llama-3.3", "llama3.3"),
    ("llama-3.2", "llama3.2"),
    ("llama-3.1", "llama3.1"),
    ("llama-3", "llama3"),
    ("llama3", "llama3"),
    ("llama-2", "llama2"),
    ("gemma", "gemma"),
    ("mistral", "apache-2.0"),
    ("smollm", "apache-2.0"),
    ("qwen", "apache-2.0"),
)
"""Base model name fragment → the license the adapter inherits; first match wins."""

TRAINING_FILES = ("config.yaml", "trainer_stats.json", "loss.csv", "environment.json")
"""Run files published under `training/` when present."""

EVAL_FILES = ("eval/metrics.json", "eval/benchmarks.json", "report.md")
"""Published when the run has a report (medeval's); the loss plot whenever it exists."""

DISCLAIMER = (
    "**Not for medical use.** This adapter is a research artifact. Its answers may be wrong, "
    "outdated or harmful; it is no substitute for professional medical advice, diagnosis or "
    "treatment, and must not be used to make clinical decisions."
)


@dataclass(frozen=True)
class CardFacts:
    """What the card's metadata says about the adapter."""

    repo_id: str
    base_model: str
    dataset: str
    license: str
    recipe: str


def _bad_run(run: Path, problem: str) -> HubError:
    return HubError(f"{run}: {problem}", 2)


def read_config(run: Path) -> dict[str, Any]:
    path = run / "config.yaml"
    if not path.is_file():
        raise _bad_run(
            run, "no config.yaml: not a training run folder (artifacts/runs/<recipe>-<ts>)"
        )
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not isinstance(config.get("model"), dict):
        raise _bad_run(run, "config.yaml has no `model` section; rerun `medtrain train`")
    return config


def card_facts(
    run: Path,
    repo_id: str,
    config: dict[str, Any],
    base_model: str | None,
    dataset: str | None,
    license_id: str | None,
) -> CardFacts:
    """Base model, dataset id and license from the run's config, unless given explicitly."""
    base = base_model or str(config["model"].get("base", ""))
    if not REPO_ID.match(base):
        raise _bad_run(run, f"model.base {base!r} is not a Hub model id; pass --base-model NS/NAME")
    data = dataset or str(config.get("data", {}).get("dataset", ""))
    if not data:
        raise _bad_run(run, "config.yaml has no data.dataset; pass --dataset NS/NAME")
    if not REPO_ID.match(data) or Path(data).exists():
        data = f"{repo_id.split('/')[0]}/{Path(data).name}"
    license_id = license_id or next(
        (lic for fragment, lic in LICENSE_BY_BASE if fragment in base.lower()), None
    )
    if license_id is None:
        raise _bad_run(run, f"no known license for base model {base}; pass --license ID")
    return CardFacts(repo_id, base, data, license_id, str(config.get("name", run.name)))


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _stats_section(run: Path) -> str:
    path = run / "trainer_stats.json"
    if not path.is_file():
        return "No trainer_stats.json in the run."
    stats = json.loads(path.read_text())
    rows = [(k, _fmt(v)) for k, v in stats.items() if isinstance(v, int | float | str)]
    return _table(rows, ("statistic", "value"))


def _loss_section(run: Path) -> str:
    if (run / "eval/loss.png").is_file():
        return "![Training loss](loss.png)\n\nPer-step values: `training/loss.csv`."
    if (run / "loss.csv").is_file():
        return "No plot yet (`medeval` draws it); per-step values: `training/loss.csv`."
    return "No loss log in the run."


def _eval_section(run: Path) -> str:
    if not (run / "report.md").is_file():
        return "Not evaluated yet (no report in the run folder)."
    parts = []
    metrics_file = run / "eval/metrics.json"
    if metrics_file.is_file():
        metrics = json.loads(metrics_file.read_text())
        base, tuned = metrics.get("base", {}), metrics.get("finetuned", {})
        names = list(dict.fromkeys([*base, *tuned]))
        rows = [(n, _fmt(base.get(n, "-")), _fmt(tuned.get(n, "-"))) for n in names]
        parts.append("Held-out test split:\n\n" + _table(rows, ("metric", "base", "fine-tuned")))
    bench_file = run / "eval/benchmarks.json"
    if bench_file.is_file():
        rows = []
        for name, results in json.loads(bench_file.read_text()).items():
            cells = [
                f"{r['acc']:.3f} ± {r.get('stderr', 0):.3f} (n={r.get('n', '?')})"
                for r in (results.get("base", {}), results.get("finetuned", {}))
                if "acc" in r
            ]
            rows.append((name, *cells))
        parts.append(
            "Benchmarks (accuracy):\n\n" + _table(rows, ("benchmark", "base", "fine-tuned"))
        )
    parts.append("The full evaluation is in [report.md](report.md).")
    return "\n\n".join(parts)


def render_card(run: Path, facts: CardFacts) -> str:
    """The model card: Hub metadata, usage, the resolved config, stats and evaluation."""
    metadata = {
        "base_model": facts.base_model,
        "datasets": [facts.dataset],
        "library_name": "peft",
        "license": facts.license,
        "language": ["en"],
        "pipeline_tag": "text-generation",
        "tags": ["medical", "lora", "peft", "medtrain", facts.recipe],
    }
    config_text = (run / "config.yaml").read_text(encoding="utf-8").strip()
    usage = (
        "```python\n"
        "from peft import AutoPeftModelForCausalLM\n"
        "from transformers import AutoTokenizer\n\n"
        f'model = AutoPeftModelForCausalLM.from_pretrained("{facts.repo_id}")\n'
        f'tokenizer = AutoTokenizer.from_pretrained("{facts.repo_id}")\n'
        "```"
    )
    sections = [
        f"# {facts.repo_id.split('/')[-1]}",
        f"A LoRA adapter for [{facts.base_model}](https://huggingface.co/{facts.base_model}), "
        f"fine-tuned by `medtrain` (recipe `{facts.recipe}`) on "
        f"[{facts.dataset}](https://huggingface.co/datasets/{facts.dataset}).",
        DISCLAIMER,
        "## Usage\n\n" + usage,
        "## Training configuration\n\nThe resolved recipe (`training/config.yaml`):\n\n"
        f"```yaml\n{config_text}\n```",
        "## Training statistics\n\n" + _stats_section(run),
        "## Training loss\n\n" + _loss_section(run),
        "## Evaluation\n\n" + _eval_section(run),
    ]
    front = yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True)
    return f"---\n{front}---\n\n" + "\n\n".join(sections) + "\n"


def repo_files(run: Path, facts: CardFacts) -> dict[str, Content]:
    """Every file of the model repo, by its path in the repo."""
    adapter = run / "adapter"
    if not (adapter / "adapter_config.json").is_file():
        raise _bad_run(run, "no adapter/adapter_config.json: training did not finish")
    files: dict[str, Content] = {
        p.relative_to(adapter).as_posix(): p
        for p in sorted(adapter.rglob("*"))
        if p.is_file() and p.name != "README.md"  # peft's placeholder card; ours replaces it
    }
    files.update({f"training/{n}": run / n for n in TRAINING_FILES if (run / n).is_file()})
    if (run / "eval/loss.png").is_file():
        files["loss.png"] = run / "eval/loss.png"
    if (run / "report.md").is_file():
        files.update({n: run / n for n in EVAL_FILES if (run / n).is_file()})
    card = render_card(run, facts)
    check_card(card, "model", set(files))
    files["README.md"] = card.encode()
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
        bool, typer.Option(help="Push nothing: write the repo folder and print what would change.")
    ] = False,
    dry_run_dir: Annotated[
        Path, typer.Option(help="Where --dry-run writes the repo folder.")
    ] = Path("artifacts/publish"),
) -> None:
    """Publish a run's adapter, tokenizer and model card to a Hugging Face Hub model repo.

    Needs a Hub token (HF_TOKEN or `hf auth login`). Publishing unchanged content makes no
    commit; changed content makes one commit whose message lists the files that changed.
    """
    try:
        token = require_token()
        if not REPO_ID.match(repo):
            raise HubError(f"--repo {repo!r} is not NAMESPACE/NAME", 2)
        config = read_config(run)
        facts = card_facts(run, repo, config, base_model, dataset, license_id)
        try:
            files = repo_files(run, facts)
        except ValueError as err:
            raise HubError(f"{run}: model card: {err}", 2) from err
        result = Publisher(token).publish(
            repo, "model", files, private=private, dry_run_dir=dry_run_dir if dry_run else None
        )
        typer.echo(result.describe())
    except HubError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(err.exit_code) from None
