"""A training run folder (docs/schemas.md §3), read through its files only."""

from __future__ import annotations

import re
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
    """Where to load the base weights from: `model.resolved_path` if set, else `model.base`
    (an absolute path, or a Hub id)."""
    dataset: str
    """`data.dataset`: a variant folder (absolute path) or a Hub dataset id."""
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


HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+\Z")
"""NAMESPACE/NAME, as the Hub spells repo ids."""


def in_run(ref: str, run: Path) -> str:
    """A config.yaml path as medeval uses it: absolute ones as they are, relative ones relative to
    the run folder (docs/schemas.md §3); anything else (a Hub id) unchanged."""
    inside = run / ref
    return str(inside.resolve()) if not Path(ref).is_absolute() and inside.exists() else ref


def locate(ref: str) -> Path | str:
    """The one local-or-Hub check of medeval: an existing absolute path (`in_run` made the run's
    relative ones absolute), or a Hub id; never a guess relative to the working directory."""
    path = Path(ref)
    if path.is_absolute() and path.exists():
        return path
    if HUB_ID.match(ref) and not ref.startswith("."):
        return ref
    raise EvalInputError(
        f"{ref}: no such file or folder, and not a Hub id (NAMESPACE/NAME); in config.yaml a "
        "local path is absolute or relative to the run folder"
    )


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
        model_path=in_run(str(resolved) if resolved else base, path),
        dataset=in_run(dataset, path),
        test_split=test_split,
    )
