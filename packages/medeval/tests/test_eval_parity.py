"""`benchmarks/eval_parity.py` (nox -s eval_parity) runs end to end on SmolLM2, on two items, and
`benchmarks/parity/table.py` renders its result as the READMEs' table."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.parity.table import table
from testsupport.paths import REPO


@pytest.mark.slow
def test_eval_parity_writes_both_tools_numbers(tmp_path: Path) -> None:
    out = tmp_path / "eval_parity.json"
    command = [sys.executable, "-m", "benchmarks.eval_parity", "--limit", "2", "--task", "medqa"]
    command += ["--harness-batch-size", "1", "--repeats", "2"]
    command += ["--data", str(tmp_path), "--out", str(out)]
    subprocess.run(command, cwd=REPO, check=True, timeout=900)
    result = json.loads(out.read_text())
    medqa = result["tasks"]["medqa"]
    assert medqa["items"] == 2
    assert medqa["same_pick"] == 1.0
    assert medqa["harness"]["acc"] == medqa["medeval"]["acc"]
    for tool in ("harness", "medeval"):
        assert len(medqa[tool]["all_seconds"]) == 2
        assert medqa[tool]["seconds"] == min(medqa[tool]["all_seconds"]) > 0
    assert 0 < medqa["fraction_of_peak"] < 2
    assert set(medqa["met"]) == {"same_pick", "acc_diff_points", "speedup", "fraction_of_peak"}
    assert 0 < result["medeval_profile"]["matmul_share"] <= 1
    assert "2 P n" in result["flops_formula"]
    rendered = table(result).splitlines()
    assert len(rendered) == 4  # header, alignment, medqa, all
    assert rendered[2].startswith("| medqa | 2 | ") and rendered[3].startswith("| **all** | 2 | ")
