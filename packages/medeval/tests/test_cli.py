"""End-to-end: `medeval evaluate` on the tiny fake run, then the report and error handling."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from medeval.cli import app
from medeval.tasks import suite
from testsupport.paths import EVAL_DATA
from testsupport.runs import write_eval, write_run
from testsupport.schemas import validate_json, validate_run_folder

runner = CliRunner()


@pytest.fixture(scope="module")
def evaluated(tiny_run: Path, tiny_root: Path) -> tuple[Path, Path]:
    run = tiny_root / "runs" / "evaluated"
    shutil.copytree(tiny_run, run)
    other = write_run(tiny_root, "tiny-cpu-20260102-000000")
    args = ["evaluate", str(run), "--compare", str(other), "--limit-samples", "3"]
    args += ["--limit-bench", "3", "--max-new-tokens", "8", "--eval-data", str(EVAL_DATA)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return run, other


def test_writes_the_eval_schema(evaluated: tuple[Path, Path]) -> None:
    run, _ = evaluated
    validate_run_folder(run)  # eval/*.json and samples.jsonl against schemas/
    for name in ("loss.png", "loss.svg", "loss_compare.png", "samples.jsonl", "samples.md"):
        assert (run / "eval" / name).is_file(), name
    samples = [json.loads(x) for x in (run / "eval" / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 3
    assert set(samples[0]) == {"id", "question", "reference", "base", "finetuned"}
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    for variant in ("base", "finetuned"):
        assert {"answer_loss", "perplexity", "rouge_l", "token_f1", "n"} <= set(metrics[variant])
        assert metrics[variant]["n"] == 6
    # The adapter changes the model (non-zero LoRA B), so the losses differ.
    assert metrics["base"]["answer_loss"] != metrics["finetuned"]["answer_loss"]
    bench = json.loads((run / "eval" / "benchmarks.json").read_text())
    assert list(bench) == [*suite(), "average"]
    assert bench["pubmedqa"]["finetuned"]["n"] == 3
    assert set(bench["medqa"]["base"]) == {"acc", "stderr", "acc_norm", "acc_norm_stderr", "n"}
    per_item = run / "eval" / "benchmarks" / "medmcqa.jsonl"
    assert len(per_item.read_text().splitlines()) == 3


def test_report_is_self_contained(evaluated: tuple[Path, Path]) -> None:
    run, _ = evaluated
    md = (run / "report.md").read_text()
    headings = [line for line in md.splitlines() if line.startswith("## ")]
    assert headings[0] == "## Verdict: did fine-tuning help?"
    assert headings[-1] == "## Configuration"
    for section in ("## Benchmarks per task", "## Samples", "## Training"):
        assert section in headings
    assert "![training loss](eval/loss.png)" in md
    page = (run / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 3  # verdict, loss, loss of compared runs
    assert 'src="eval/' not in page
    first = json.loads((run / "eval" / "samples.jsonl").read_text().splitlines()[0])
    assert first["question"] in page
    verdict = json.loads((run / "eval" / "verdict.json").read_text())
    assert set(verdict["measures"]) == {"answer_loss", "rouge_l", "token_f1", "benchmark_average"}


def test_report_compare_lists_other_runs(evaluated: tuple[Path, Path], tiny_root: Path) -> None:
    run, _ = evaluated
    twin = tiny_root / "runs" / "twin"
    shutil.copytree(run, twin)
    result = runner.invoke(app, ["report", str(run), "--compare", str(twin)])
    assert result.exit_code == 0, result.output
    assert "| twin | finetuned |" in (run / "report.md").read_text()


def test_plot_csv_overlays_upstream_files(tmp_path: Path) -> None:
    for name in ("mistral", "gemma"):
        (tmp_path / f"{name}.csv").write_text("Step,Loss\n1,2.0\n2,1.5\n")
    out = tmp_path / "all_models"
    result = runner.invoke(
        app,
        ["plot-csv", str(tmp_path / "mistral.csv"), str(tmp_path / "gemma.csv"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert out.with_suffix(".png").is_file()
    assert out.with_suffix(".svg").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "/nonexistent/run"], "no config.yaml"),
        (["bench", "{run}", "--task", "mmlu_virology"], "unknown task"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tiny_run: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, [a.format(run=tiny_run) for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_metrics_without_samples_writes_valid_json(tiny_run: Path, tiny_root: Path) -> None:
    run = tiny_root / "runs" / "metrics-only"
    shutil.copytree(tiny_run, run)
    result = runner.invoke(app, ["metrics", str(run)])
    assert result.exit_code == 0, result.output
    metrics = validate_json("metrics.schema.json", run / "eval" / "metrics.json")
    assert metrics["base"]["n"] == 6  # the rows of the run's answer_loss.jsonl
    assert metrics["base"]["answer_loss"] == pytest.approx(sum(30 + 3 * i for i in range(6)) / 75)
    assert "rouge_l" not in metrics["base"]


def test_report_reads_eval_files_as_the_schemas_define_them(
    tiny_run: Path, tiny_root: Path
) -> None:
    """The report reads eval/*.json written to the schemas (testsupport.runs.write_eval checks
    them), not only what this medeval wrote."""
    run = tiny_root / "runs" / "schema-only"
    shutil.copytree(tiny_run, run)
    write_eval(run)
    result = runner.invoke(app, ["report", str(run)])
    assert result.exit_code == 0, result.output
    md = (run / "report.md").read_text()
    assert "| pubmedqa | 100 | 50.0% | 56.0% | +6.0% | 10 | 4 |" in md  # newly right, wrong
    assert "| What is asthma? | A lung disease. | A cough. | A disease of the airways. |" in md
