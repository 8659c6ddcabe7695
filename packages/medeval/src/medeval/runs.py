"""A training run folder (docs/schemas.md §3), read through its files only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from medeval.errors import EvalInputError


@dataclass(frozen=True)
class Run:
    """What medeval needs to know about one training run."""

    path: Path
    """The run folder `artifacts/runs/<recipe>-<timestamp>/`."""
    name: str
    """The folder name, used as the run's label in plots and reports."""
    config: dict[str, Any]
    """`config.yaml` as written by medtrain (the resolved recipe)."""
    base_model: str
    """`model.base`: the Hub id or path the adapter applies to."""
    model_path: str
    """Where to load the base weights from: `model.resolved_path` if set, else `model.base`."""
    dataset: str
    """`data.dataset`: a variant folder (`data/processed/<variant>`) or a Hub dataset id."""
    test_split: str
    """`data.test_split`: the held-out split's name."""

    @property
    def adapter_dir(self) -> Path:
        """The LoRA adapter and tokenizer saved by medtrain."""
        return self.path / "adapter"

    @property
    def eval_dir(self) -> Path:
        """Where medeval writes (schema §4)."""
        return self.path / "eval"

    @property
    def loss_csv(self) -> Path:
        """The per-logging-step loss log."""
        return self.path / "loss.csv"


def _get(config: dict[str, Any], dotted: str, config_path: Path) -> Any:
    node: Any = config
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            raise EvalInputError(f"{config_path}: missing `{dotted}`; rerun medtrain or add it")
        node = node[key]
    return node


def _localize(ref: str, run_path: Path) -> str:
    """A relative path in config.yaml is relative to the cwd or one of the run's parent folders."""
    candidate = Path(ref)
    if candidate.is_absolute() or candidate.exists():
        return ref
    for ancestor in run_path.resolve().parents:
        if (ancestor / candidate).exists():
            return str(ancestor / candidate)
    return ref


def load_run(path: Path) -> Run:
    """Read a run folder's `config.yaml`; a missing folder or key is a one-line input error."""
    config_path = path / "config.yaml"
    if not config_path.is_file():
        raise EvalInputError(f"{path}: no config.yaml; pass a run folder from artifacts/runs/")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    base = str(_get(config, "model.base", config_path))
    resolved = config.get("model", {}).get("resolved_path")
    dataset = str(_get(config, "data.dataset", config_path))
    test_split = str(config.get("data", {}).get("test_split") or "test")
    return Run(
        path=path,
        name=path.resolve().name,
        config=config,
        base_model=base,
        model_path=_localize(str(resolved) if resolved else base, path),
        dataset=_localize(dataset, path),
        test_split=test_split,
    )
