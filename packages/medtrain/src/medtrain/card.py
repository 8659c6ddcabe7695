"""The model card of a run: the run folder's README.md and the published repo's, one renderer.

Metadata goes through huggingface_hub's `ModelCardData` (the Hub's field names and YAML form);
the Hub checks its values when the card is pushed (`create_commit` runs `validate-yaml` first).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medtrain.config import RecipeConfig
from medtrain.locations import is_hub_id

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

DISCLAIMER = (
    "**Not for medical use.** This adapter is a research artifact. Its answers may be wrong, "
    "outdated or harmful; it is no substitute for professional medical advice, diagnosis or "
    "treatment, and must not be used to make clinical decisions."
)


def inherited_license(base_model: str) -> str | None:
    """The license of the base model family, when known."""
    return next((lic for part, lic in LICENSE_BY_BASE if part in base_model.lower()), None)


@dataclass(frozen=True)
class CardFacts:
    """What the card says about where the adapter comes from and goes to."""

    base_model: str
    """The base model: a Hub id on a published card, else what the recipe names."""
    dataset: str
    """The training dataset: a Hub id on a published card, else what the recipe names."""
    license: str
    """Hub license id (`unknown` when the base model's family is not known)."""
    repo_id: str | None = None
    """The Hub repo it is published to; None for the run folder's own card."""
    config_yaml: str = ""
    """The resolved recipe as the card shows it (published: without local paths)."""

    @classmethod
    def of_run(cls, recipe: RecipeConfig, config_yaml: str) -> CardFacts:
        base, license_id = recipe.model.base, inherited_license(recipe.model.base)
        return cls(base, recipe.data.dataset, license_id or "unknown", None, config_yaml)


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _link(ref: str, kind: str = "") -> str:
    return f"[{ref}](https://huggingface.co/{kind}{ref})" if is_hub_id(ref) else f"`{ref}`"


def _settings(recipe: RecipeConfig) -> str:
    t, lora = recipe.training, recipe.lora
    rows = [
        ("LoRA", f"r={lora.r} alpha={lora.alpha} dropout={lora.dropout} rsLoRA={lora.use_rslora} "
         f"DoRA={lora.use_dora} on {', '.join(lora.target_modules)}"),
        ("batch", f"{t.per_device_train_batch_size} x grad-accum {t.gradient_accumulation_steps}"),
        ("steps", f"max_steps={t.max_steps}, epochs={t.num_train_epochs}"),
        ("optimizer", f"{t.optim}, lr {t.learning_rate}, {t.lr_scheduler_type}, "
         f"warmup {t.warmup_steps}, weight decay {t.weight_decay}"),
        ("max_seq_length", recipe.model.max_seq_length),
        ("4-bit base", recipe.model.load_in_4bit),
        ("chat template", recipe.model.chat_template),
        ("seed", t.seed),
    ]  # fmt: skip
    return _table(rows, ("setting", "value"))


def _stats(stats: dict[str, Any] | None) -> str:
    if not stats:
        return "No trainer_stats.json in the run."
    rows = [(k, _fmt(v)) for k, v in stats.items() if isinstance(v, int | float | str)]
    return _table(rows, ("statistic", "value"))


def _loss(run: Path, published: bool) -> str:
    csv_at = "training/loss.csv" if published else "loss.csv"
    if (run / "eval/loss.png").is_file():
        plot = "loss.png" if published else "eval/loss.png"
        return f"![Training loss]({plot})\n\nPer-step values: `{csv_at}`."
    if (run / "loss.csv").is_file():
        return f"No plot yet (`medeval` draws it); per-step values: `{csv_at}`."
    return "No loss log in the run."


def _accuracy(result: dict[str, Any] | None) -> str:
    """One benchmarks.json entry (schemas/benchmarks.schema.json) as `acc ± stderr (n=N)`."""
    if not result:
        return "-"
    return f"{result['acc']:.3f} ± {result['stderr']:.3f} (n={result['n']})"


def _evaluation(run: Path) -> str:
    if not (run / "report.md").is_file():
        return "Not evaluated yet (no report in the run folder; `medeval evaluate` writes one)."
    parts = []
    metrics_file = run / "eval/metrics.json"
    if metrics_file.is_file():
        metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
        base, tuned = metrics.get("base", {}), metrics.get("finetuned", {})
        names = list(dict.fromkeys([*base, *tuned]))
        rows = [(n, _fmt(base.get(n, "-")), _fmt(tuned.get(n, "-"))) for n in names]
        parts.append("Held-out test split:\n\n" + _table(rows, ("metric", "base", "fine-tuned")))
    bench_file = run / "eval/benchmarks.json"
    if bench_file.is_file():
        rows = [
            (name, *(_accuracy(models.get(which)) for which in ("base", "finetuned")))
            for name, models in json.loads(bench_file.read_text(encoding="utf-8")).items()
        ]
        parts.append(
            "Benchmarks (accuracy):\n\n" + _table(rows, ("benchmark", "base", "fine-tuned"))
        )
    parts.append("The full evaluation is in [report.md](report.md).")
    return "\n\n".join(parts)


def _usage(facts: CardFacts) -> str:
    where = facts.repo_id or "path/to/this/run/adapter"
    return (
        "```python\n"
        "from peft import AutoPeftModelForCausalLM\n"
        "from transformers import AutoTokenizer\n\n"
        f'model = AutoPeftModelForCausalLM.from_pretrained("{where}")\n'
        f'tokenizer = AutoTokenizer.from_pretrained("{where}")\n'
        "```"
    )


def render_card(
    run: Path, recipe: RecipeConfig, facts: CardFacts, stats: dict[str, Any] | None
) -> str:
    """The card: Hub metadata, usage, settings, the resolved config, stats and evaluation."""
    from huggingface_hub import ModelCardData

    published = facts.repo_id is not None
    metadata = ModelCardData(
        base_model=facts.base_model,
        datasets=[facts.dataset],
        library_name="peft",
        license=facts.license,
        language=["en"],
        pipeline_tag="text-generation",
        tags=["medical", "lora", "peft", "medtrain", recipe.name],
    )
    config_at = "training/config.yaml" if published else "config.yaml"
    title = facts.repo_id.split("/")[-1] if facts.repo_id else f"{run.name} (LoRA adapter)"
    sections = [
        f"# {title}",
        f"A LoRA adapter for {_link(facts.base_model)}, fine-tuned by `medtrain` (recipe "
        f"`{recipe.name}`, answer-only loss) on {_link(facts.dataset, 'datasets/')}.",
        DISCLAIMER,
        "## Usage\n\n" + _usage(facts),
        "## Training\n\n" + _settings(recipe),
        f"The resolved recipe (`{config_at}`); `medtrain train {config_at}` reruns it:\n\n"
        f"```yaml\n{facts.config_yaml.strip()}\n```",
        "## Training statistics\n\n" + _stats(stats),
        "## Training loss\n\n" + _loss(run, published),
        "## Evaluation\n\n" + _evaluation(run),
    ]
    return f"---\n{metadata.to_yaml()}\n---\n\n" + "\n\n".join(sections) + "\n"
