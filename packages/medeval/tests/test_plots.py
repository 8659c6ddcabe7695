from pathlib import Path

import pytest
from matplotlib.lines import Line2D

from medeval.errors import EvalInputError
from medeval.plots import curve_figure, overlay_figure, read_loss_csv, save_figure, smooth

# Recorded from an upstream run (their `Step,Loss` format) and from medtrain's `loss.csv`.
UPSTREAM = "Step,Loss\n10,2.4310\n20,1.9876\n30,1.7702\n40,1.6120\n50,1.5893\n"
MEDTRAIN = (
    "step,loss,lr,grad_norm,tokens\n1,3.1,1e-4,2.0,100\n2,2.9,1e-4,1.8,200\n3,2.2,1e-4,1.5,300\n"
)


@pytest.fixture
def csvs(tmp_path: Path) -> tuple[Path, Path]:
    upstream = tmp_path / "mistral_medquad.csv"
    upstream.write_text(UPSTREAM)
    run = tmp_path / "smollm2-cpu-20260101-000000"
    run.mkdir()
    (run / "loss.csv").write_text(MEDTRAIN)
    return upstream, run / "loss.csv"


def test_reads_both_formats(csvs: tuple[Path, Path]) -> None:
    upstream, ours = (read_loss_csv(p) for p in csvs)
    assert upstream.label == "mistral_medquad"
    assert upstream.steps == [10, 20, 30, 40, 50]
    assert upstream.losses[0] == pytest.approx(2.431)
    assert ours.label == "smollm2-cpu-20260101-000000"
    assert ours.losses == [3.1, 2.9, 2.2]


def test_bad_csv_is_an_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("epoch,acc\n1,0.5\n")
    with pytest.raises(EvalInputError, match=r"bad\.csv"):
        read_loss_csv(bad)
    with pytest.raises(EvalInputError, match="no such"):
        read_loss_csv(tmp_path / "missing.csv")


def test_smooth_is_debiased_ema() -> None:
    assert smooth([2.0, 2.0, 2.0]) == pytest.approx([2.0, 2.0, 2.0])
    out = smooth([1.0, 3.0], weight=0.5)
    assert out == pytest.approx([1.0, (0.25 * 1 + 0.5 * 3) / 0.75])


def _lines(fig) -> list[Line2D]:  # type: ignore[no-untyped-def]
    return fig.axes[0].get_lines()


def test_curve_figure_has_raw_and_smoothed(csvs: tuple[Path, Path]) -> None:
    curve = read_loss_csv(csvs[0])
    fig = curve_figure(curve)
    raw, smoothed = _lines(fig)
    assert list(raw.get_xdata()) == curve.steps
    assert list(raw.get_ydata()) == curve.losses
    assert list(smoothed.get_ydata()) == pytest.approx(smooth(curve.losses))
    assert fig.axes[0].get_xlabel() == "step"
    assert fig.axes[0].get_ylabel() == "loss"


def test_overlay_has_one_series_per_run(csvs: tuple[Path, Path], tmp_path: Path) -> None:
    curves = [read_loss_csv(p) for p in csvs]
    fig = overlay_figure(curves)
    assert [line.get_label() for line in _lines(fig)] == [c.label for c in curves]
    paths = save_figure(fig, tmp_path / "out" / "all_models")
    assert [p.name for p in paths] == ["all_models.png", "all_models.svg"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in paths[1].read_text()
