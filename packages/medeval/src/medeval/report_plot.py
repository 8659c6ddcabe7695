"""The verdict as one figure: a panel per measure, base and fine-tuned with their intervals."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from medeval.report_verdict import Measure

COLORS = {"better": "#1a7f37", "worse": "#cf222e", "unclear": "#6e7781"}
"""Fine-tuned marker colour by verdict."""


def verdict_figure(found: list[Measure]) -> Figure:
    """One panel per measure, stacked: the picture stays readable when a phone shrinks it."""
    fig, axes = plt.subplots(len(found), 1, figsize=(5, 1.45 * len(found)), squeeze=False)
    for ax, measure in zip(axes.flat, found, strict=True):
        estimates = [measure.paired.base, measure.paired.finetuned]
        colors = ["#57606a", COLORS[measure.verdict]]
        for y, (estimate, color) in enumerate(zip(estimates, colors, strict=True)):
            ax.errorbar(
                estimate.value,
                y,
                xerr=[[estimate.value - estimate.low], [estimate.high - estimate.value]],
                fmt="o",
                color=color,
                capsize=4,
                markersize=7,
            )
        ax.set_yticks([0, 1], ["base", "fine-tuned"])
        ax.set_ylim(-0.6, 1.6)
        arrow = "lower is better" if measure.lower_is_better else "higher is better"
        ax.set_title(f"{measure.label}: {measure.verdict} ({arrow})", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.margins(x=0.15)
    fig.tight_layout()
    return fig
