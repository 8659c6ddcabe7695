"""gpu/check.py and `nox -s gpu_check` refuse at once without CUDA; `--tiny` runs the same
code path (medtrain's trainer and export, child processes, gpu.json) on the CPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from testsupport.paths import REPO

CHECK = REPO / "gpu" / "check.py"


def test_refuses_without_cuda_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    got = subprocess.run(
        [sys.executable, str(CHECK), "--out", str(out), "--scratch", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert got.returncode == 2
    assert "gpu_check needs a CUDA GPU" in got.stderr and "--tiny" in got.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_nox_session_refuses_without_a_driver(tmp_path: Path) -> None:
    got = subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(REPO / "noxfile.py"), "-s", "gpu_check",
         "--envdir", str(tmp_path)],
        capture_output=True, text=True, check=False, cwd=REPO,
    )  # fmt: skip
    assert got.returncode != 0
    assert "gpu_check needs a CUDA GPU" in got.stderr
    assert "pip install" not in got.stderr  # refused before installing anything


def test_tiny_mode_trains_exports_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "gpu.json"
    cmd = [
        sys.executable, str(CHECK), "--tiny", "--models", "mistral", "--backends", "hf",
        "--steps", "2", "--seq", "32", "--out", str(out), "--scratch", str(tmp_path),
    ]  # fmt: skip
    got = subprocess.run(
        cmd, capture_output=True, text=True, check=False, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert got.returncode == 0, got.stderr[-3000:]
    report = json.loads(out.read_text())
    assert report["weights"] == "tiny random" and report["budget_s"] == 600
    (model,) = report["models"]
    (run,) = model["runs"]
    assert (run["model"], run["backend"], run["steps"]) == ("mistral", "hf", 2)
    assert run["tokens_per_s"] > 0 and run["first_loss"] > 0 and run["last_loss"] > 0
    assert run["export"]["size_gb"] > 0 and "error" not in run["export"]
    assert model["unsloth_over_hf"] is None  # one backend only
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gpu-mistral-hf.log", "gpu.json"]
