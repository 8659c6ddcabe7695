"""Loss curves: one figure per run (raw + smoothed) and one overlaying several runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import polars as pl
from matplotlib.figure import Figure

from medeval.errors import EvalInputError

# medtrain writes `step,loss,...`; the upstream project's CSVs are `Step,Loss`.
_COLUMN_NAMES = {"step": "step", "loss": "loss"}


@dataclass(frozen=True)
class LossCurve:
    """One run's training loss by step."""

    label: str
    """The legend entry (the run or file name)."""
    steps: list[int]
    """Optimizer steps at which the loss was logged."""
    losses: list[float]
    """The logged training loss."""


def read_loss_csv(path: Path, label: str | None = None) -> LossCurve:
    """Read medtrain's `loss.csv` or an upstream `Step,Loss` CSV (column names case-insensitive)."""
    if not path.is_file():
        raise EvalInputError(f"{path}: no such loss CSV; train the run first or pass a CSV path")
    frame = pl.read_csv(path)
    renamed = {
        c: _COLUMN_NAMES[c.strip().lower()]
        for c in frame.columns
        if c.strip().lower() in _COLUMN_NAMES
    }
    if set(renamed.values()) != {"step", "loss"}:
        raise EvalInputError(f"{path}: needs `step` and `loss` columns, found {frame.columns}")
    frame = frame.rename(renamed).drop_nulls(["step", "loss"]).sort("step")
    if frame.height == 0:
        raise EvalInputError(f"{path}: no loss rows; log at least one step (logging_steps)")
    return LossCurve(
        label=label or (path.parent.name if path.name == "loss.csv" else path.stem),
        steps=[int(s) for s in frame["step"]],
        losses=[float(v) for v in frame["loss"]],
    )


def smooth(values: list[float], weight: float = 0.9) -> list[float]:
    """TensorBoard-style debiased exponential moving average (no lag at the start)."""
    out: list[float] = []
    last, norm = 0.0, 0.0
    for value in values:
        last = weight * last + (1 - weight) * value
        norm = weight * norm + (1 - weight)
        out.append(last / norm)
    return out


def curve_figure(curve: LossCurve, weight: float = 0.9) -> Figure:
    """The raw loss (faint) under its smoothed curve."""
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.plot(curve.steps, curve.losses, color="tab:blue", alpha=0.3, label="raw")
    ax.plot(
        curve.steps,
        smooth(curve.losses, weight),
        color="tab:blue",
        label=f"smoothed (EMA {weight})",
    )
    ax.set(title=f"Training loss: {curve.label}", xlabel="step", ylabel="loss")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def overlay_figure(curves: list[LossCurve], weight: float = 0.9) -> Figure:
    """Several runs' smoothed losses on one axis, like upstream's `all_models.png`."""
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    for curve in curves:
        ax.plot(curve.steps, smooth(curve.losses, weight), label=curve.label)
    ax.set(title="Training loss (smoothed)", xlabel="step", ylabel="loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return fig


def save_figure(fig: Figure, stem: Path) -> list[Path]:
    """Write `<stem>.png` (for people) and `<stem>.svg` (for documents), then free the figure."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], dpi=120)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths
