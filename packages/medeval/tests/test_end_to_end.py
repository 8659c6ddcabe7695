"""A short real CPU run: `medtrain train smollm2-cpu` for 2 steps, then `medeval evaluate`."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport.paths import REPO
from testsupport.schemas import validate_run_folder
from testsupport.variants import QA, qa_pair_rows, write_variant

BIN = Path(sys.executable).parent


@pytest.mark.slow
@pytest.mark.skipif(not (BIN / "medtrain").exists(), reason="medtrain is not installed")
def test_train_then_evaluate_smollm2(tmp_path: Path) -> None:
    variant, run = tmp_path / "variant", tmp_path / "run"
    write_variant(variant, qa_pair_rows(QA[:2]), qa_pair_rows(QA))
    train = [str(BIN / "medtrain"), "train", "smollm2-cpu", "--dataset", str(variant)]
    train += [
        "--run-dir",
        str(run),
        "--set",
        "training.max_steps=2",
        "--set",
        "training.save_steps=100",
    ]
    subprocess.run(train, cwd=REPO, check=True, timeout=600)
    validate_run_folder(run)  # medtrain's real output, as schemas/ says medeval reads it
    evaluate = [str(BIN / "medeval"), "evaluate", str(run), "--limit-samples", "2"]
    evaluate += ["--limit-bench", "2", "--max-new-tokens", "8"]
    subprocess.run(evaluate, cwd=REPO, check=True, timeout=600)
    metrics = json.loads((run / "eval" / "metrics.json").read_text())
    assert metrics["finetuned"]["answer_loss"] != metrics["base"]["answer_loss"]
    assert metrics["base"]["perplexity"] > 1
    # One answer loss: medeval reports the very numbers medtrain computed, on the same rows.
    stats = json.loads((run / "trainer_stats.json").read_text())
    assert metrics["base"]["answer_loss"] == pytest.approx(stats["eval_answer_loss_before"])
    assert metrics["finetuned"]["answer_loss"] == pytest.approx(stats["eval_answer_loss_after"])
    assert metrics["base"]["n"] == stats["eval_answer_rows"] == 6
    verdict = json.loads((run / "eval" / "verdict.json").read_text())["measures"]
    assert verdict["answer_loss"]["finetuned"]["value"] == pytest.approx(
        stats["eval_answer_loss_after"]
    )
    bench = json.loads((run / "eval" / "benchmarks.json").read_text())
    assert bench["medqa"]["finetuned"]["n"] == 2
    assert "data:image/png;base64," in (run / "report.html").read_text()
    validate_run_folder(run)
