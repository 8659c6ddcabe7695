"""What `medeval bench TARGET` evaluates: a run folder, or any model with an optional adapter.

TARGET is a run folder when it holds medtrain's `config.yaml` (its base model and adapter, both
models, written to RUN/eval/); anything else is a model: a Hub id, a model folder
(config.json) or a .gguf file, written to artifacts/eval/<model>/ unless --out says otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from medeval.compared import MODELS
from medeval.errors import EvalInputError
from medeval.runs import load_run, locate

DEFAULT_ROOT = Path("artifacts/eval")
"""Where a model's results go without --out."""


@dataclass(frozen=True)
class BenchTarget:
    """The model to score, its adapter, the models to report and where to write them."""

    model_path: str
    """Hub id, model folder or .gguf file of the weights."""
    adapter_dir: Path | None
    """The LoRA adapter folder, or None."""
    models: tuple[str, ...]
    """`base`, and `finetuned` when there is an adapter."""
    out_dir: Path
    """Where benchmarks.json and benchmarks/<task>.jsonl go."""

    def load(self) -> tuple[Any, Any]:
        """The model (adapter attached) and its tokenizer."""
        from medeval.models import load_causal_lm, open_tokenizer

        model = load_causal_lm(self.model_path, self.adapter_dir)
        return model, open_tokenizer(self.model_path, self.adapter_dir)


def adapter_folder(path: Path) -> Path:
    """A run folder's adapter/ or an adapter folder itself."""
    for folder in (path / "adapter", path):
        if (folder / "adapter_config.json").is_file():
            return folder
    raise EvalInputError(
        f"{path}: no adapter_config.json here or in adapter/; pass a run folder or a LoRA "
        "adapter folder"
    )


def slug(model: str, adapter: Path | None) -> str:
    """A folder name for a model (+ adapter): a Hub id's '/' becomes '--', a file loses its
    suffix; the adapter is named by the folder given (a run's name)."""
    path = Path(model)
    name = (
        path.stem if model.endswith(".gguf") else (path.resolve().name if path.exists() else model)
    )
    name = re.sub(r"[^A-Za-z0-9._-]+", "--", name)
    return f"{name}+{adapter.resolve().name}" if adapter is not None else name


def bench_target(target: str, adapter: Path | None, out: Path | None) -> BenchTarget:
    """Resolve the command line: a run folder, or a model with an optional adapter."""
    path = Path(target)
    if (path / "config.yaml").is_file():
        if (path / "config.json").is_file():
            raise EvalInputError(
                f"{path}: has both config.yaml (a run) and config.json (a model); "
                "pass the run folder or the model folder, not one folder that is both"
            )
        if adapter is not None:
            raise EvalInputError(
                f"{path} is a run folder: it brings its own adapter; drop --adapter"
            )
        run = load_run(path)
        return BenchTarget(run.model_path, run.adapter_dir, MODELS, out or run.eval_dir)
    # A path on the command line is relative to where the user runs it; then the one check.
    model_path = str(locate(str(path.resolve()) if path.exists() else target))
    adapter_dir = adapter_folder(adapter) if adapter is not None else None
    models = MODELS if adapter_dir is not None else MODELS[:1]
    return BenchTarget(model_path, adapter_dir, models, out or DEFAULT_ROOT / slug(target, adapter))
